"""The township office (乡政府办公室) in the browser, continued: the unit tree and a township CSV
upload with a bad line (named by its number, nothing written), a new account with a role at a
unit and a migrant worker's printable activation slip, a record's audit history and chain
check, and the policy page's machine diagrams as SVG. Uses the demo's `admin` and accounts
these tests create, none that other browser tests sign with."""
import re
import tempfile
import uuid
from pathlib import Path

from conftest import SCREENSHOTS, screenshot, sign_in


def _tree_grids(page):
    return page.locator(".tree-grid").count()


def test_import_with_a_bad_line_names_it_and_writes_nothing(phone, server):
    page = phone("admin")
    page.goto(server.url("/app/admin/units"))
    grids_before = _tree_grids(page)
    assert grids_before == 84
    assert "第1网格" in page.locator(".unit-tree").inner_text()
    screenshot(page, "admin-units")
    status, units = server.call("GET", "/units", token=server.token("admin"))
    assert status == 200, units
    count_before = len(units["units"])
    township = next(unit for unit in units["units"] if unit["kind"] == "township")

    csv = ("record,code,parent,name,poor,id_number,phone,address\n"
           f"village,bt_v1,{township['code']},测试新村,,,,\n"
           "group,bt_v1g1,bt_v1,测试新村1组,,,,\n"
           "grid,bt_v1g1w1,nowhere,测试网格,,,,\n"
           "household,bt_h1,bt_v1g1w1,王五,maybe,,,\n")
    path = Path(tempfile.mkdtemp()) / "township.csv"
    path.write_text(csv, encoding="utf-8")
    page.get_by_label("选择CSV文件（UTF-8）").set_input_files(str(path))
    page.get_by_role("button", name="预览").click()
    errors = page.locator(".import-errors")
    assert "什么都没有导入" in errors.inner_text()
    lines = errors.locator("tr.import-error").all_inner_texts()
    # Only the grid with an unknown parent, and the household under that grid, are wrong.
    assert len(lines) == 2, lines
    assert lines[0].startswith("第4行") and "nowhere" in lines[0], lines
    assert lines[1].startswith("第5行"), lines
    assert page.get_by_role("button", name="确认导入").count() == 0
    screenshot(page, "admin-import-error")

    # Nothing was written: the tree and the API show the same units as before.
    page.goto(server.url("/app/admin/units"))
    assert _tree_grids(page) == grids_before
    assert "测试新村" not in page.locator("main").inner_text()
    status, units = server.call("GET", "/units", token=server.token("admin"))
    assert len(units["units"]) == count_before


def test_create_a_user_with_a_role_and_print_a_workers_slip(phone, server, browser):
    page = phone("admin")
    page.goto(server.url("/app/admin/users"))
    page.get_by_role("link", name="新建账号").click()
    username = "bt_health_" + uuid.uuid4().hex[:6]
    page.get_by_label("账号（登录用，字母或数字）").fill(username)
    page.get_by_label("姓名").fill("卫生院 测试员")
    page.get_by_label("初始密码（8到72个字符，交给本人后请其修改）").fill("initial-" + uuid.uuid4().hex[:8])
    page.get_by_label("角色").select_option("health_officer")
    page.get_by_label("单位").select_option(label="联合苗族乡（乡）")
    page.get_by_label("新建理由").fill("卫生院新增体检人员")
    page.get_by_role("button", name="新建账号").click()
    page.wait_for_url(re.compile(r"/app/admin/users/[0-9a-f-]{36}\?done=create"))
    main = page.locator("main")
    assert "账号已新建" in main.inner_text()
    assert "卫生院（联合苗族乡）" in main.inner_text()
    user_id = page.url.split("/app/admin/users/")[1].split("?")[0]
    trail = server.audit(user_id)
    assert trail["events"][0]["event"] == "create" and trail["events"][0]["reason"] == "卫生院新增体检人员"

    # A migrant worker of the last grid gets an account and a slip with the one-time code.
    status, grids = server.call("GET", "/units?kind=grid", token=server.token("admin"))
    assert status == 200, grids
    last = sorted(grids["units"], key=lambda unit: unit["path"])[-1]
    page.goto(server.url(f"/app/admin/workers/new?q={last['code']}-h"))
    card = page.locator(".person-card").filter(has=page.get_by_role("button", name="开通账号并打印激活单")).first
    name = card.locator(".plate").inner_text()
    mobile = "137" + uuid.uuid4().int.__str__()[:8]
    card.get_by_label(f"{name}的手机号（登录用）").fill(mobile)
    card.get_by_label("开通理由").fill("外出务工，需申请健康证")
    card.get_by_role("button", name="开通账号并打印激活单").click()
    slip = page.locator(".slip")
    assert name in slip.inner_text()
    code = slip.locator(".slip-code").inner_text().replace(" ", "")
    assert re.fullmatch(r"\d{8}", code)
    assert server.url("/app/activate") in slip.locator(".slip-address").inner_text()
    assert "设置自己的密码" in slip.inner_text()
    screenshot(page, "admin-worker-slip")

    # Printed, the slip alone fills one A5 sheet: no navigation, the code large.
    page.emulate_media(media="print")
    assert not page.locator(".tabbar").is_visible()
    assert not page.locator(".notice").first.is_visible()
    code_size = float(page.locator(".slip-code").evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
    assert code_size >= 36
    pdf = page.pdf(prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    assert boxes and all(abs(float(w) - 419.5) < 2 and abs(float(h) - 595.3) < 2 for w, h in boxes), boxes
    page.emulate_media(media="screen")

    # The code works once, for that worker, as the grid worker's own would.
    status, body = server.call("POST", "/auth/activate", {"login": mobile, "activation_code": code, "password": "worker-pass-1"})
    assert status in (200, 204), body
    status, body = server.call("POST", "/auth/activate", {"login": mobile, "activation_code": code, "password": "worker-pass-2"})
    assert status == 401, body


def test_a_pass_audit_history_and_its_chain_check(phone, server):
    status, pending = server.call("GET", "/admin/pending?level=3&limit=1", token=server.token("admin"))
    assert status == 200 and pending["items"], pending
    pass_id = pending["items"][0]["id"].lower()
    page = phone("admin")
    page.goto(server.url(f"/app/passes/{pass_id}"))
    page.get_by_role("link", name=re.compile("完整审计记录")).click()
    page.wait_for_url(re.compile(f"/app/audit/{pass_id}"))
    check = page.locator(".audit-check")
    assert "完整" in check.inner_text()
    rows = page.locator(".audit-row")
    # Filed, then signed at levels 1 and 2: at least three rows, each with actor, role, unit and time.
    assert rows.count() >= 3
    first = rows.first.inner_text()
    for label in ("操作人", "角色", "单位", "时间"):
        assert label in first
    assert "网格员" in first
    history = page.locator("main").inner_text()
    assert "同意" in history and "组长" in history
    screenshot(page, "audit-history")

    # The whole-trail check runs in the background; the page refreshes itself until it is done.
    page.goto(server.url("/app/admin/audit"))
    page.get_by_role("button", name="开始核验").click()
    page.wait_for_url(re.compile(r"/app/admin/audit/checks/[0-9a-f-]{36}"))
    page.wait_for_selector('.audit-job:not([data-status="running"])', timeout=240_000)
    job = page.locator(".audit-job")
    assert job.get_attribute("data-status") == "intact", job.inner_text()
    assert page.locator("#job-progress").get_attribute("value") == "100"
    screenshot(page, "audit-check")

    with page.expect_download() as download_info:
        page.goto(server.url("/app/admin/audit"))
        page.get_by_role("link", name="下载链头清单").click()
    download = download_info.value
    assert re.fullmatch(r"signoff-audit-heads-\d{4}-\d{2}-\d{2}\.txt", download.suggested_filename)
    text = open(download.path(), encoding="utf-8").read()
    assert f"vehicle_pass/{pass_id}@" in text
    assert re.search(r"# sha256-of-lines: [0-9a-f]{64}", text)


def test_policy_page_draws_each_machine_as_svg(phone, server, browser):
    page = phone("admin")
    page.goto(server.url("/app/admin/policy"))
    diagrams = page.locator("figure.diagram svg")
    assert diagrams.count() == 9
    pass_diagram = page.locator("#diagram-vehicle_pass svg")
    titles = pass_diagram.locator(".diagram-title").all_text_contents()
    assert set(titles) == {"待签", "退回", "撤回", "生效", "吊销"}
    labels = " ".join(pass_diagram.locator(".diagram-label").all_text_contents())
    for event in ("apply", "sign", "reject", "resubmit", "withdraw", "revoke"):
        assert event in labels
    assert pass_diagram.locator("path.diagram-arrow").count() >= 5
    # Legible: the state names are drawn at their real size, not shrunk to fit the phone.
    box = pass_diagram.locator(".diagram-title").first.bounding_box()
    assert box["height"] >= 12
    # On a phone a wide diagram scrolls inside its frame; the page itself does not get wider.
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")

    # For the README: the whole diagram, on a tablet-sized screen.
    # The page's own stylesheet keeps a diagram inside the text column; for the picture it may spread.
    context = browser.new_context(viewport={"width": 1000, "height": 1000}, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  bypass_csp=True)
    try:
        wide = context.new_page()
        sign_in(wide, server, "admin")
        wide.goto(server.url("/app/admin/policy"))
        wide.add_style_tag(content=".main { max-width: none; } .diagram-wrap { overflow: visible; }")
        wide.locator("#machine-vehicle_pass").screenshot(path=str(SCREENSHOTS / "policy-diagram.png"))
        wide.locator("#machine-returnee_isolation figure").screenshot(path=str(SCREENSHOTS / "policy-diagram-isolation.png"))
    finally:
        context.close()
