"""The township office (乡政府办公室) in the browser: 待办总览 with its filters and CSV, and
乡镇报表 with the seed's figures in the page text and in the SVG charts."""
import csv
import io
import re

from conftest import screenshot

# The figures of the source document, which the demo seeds.
SEED = {"agricultural": 219, "exams": 1566, "inside": 303, "outside": 1263, "trips": 2, "workers": 30, "poor": 5,
        "grids": 84}


def test_admin_filters_overdue_level_3_in_one_village_and_opens_one(phone, server):
    token = server.token("admin")
    status, body = server.call("GET", "/admin/pending?level=3&overdue=true&limit=200", token=token)
    assert status == 200, body
    assert body["items"], "the demo has overdue passes waiting at level 3"
    village_path = ".".join(body["items"][0]["unit_path"].split(".")[:2])
    in_village = [item for item in body["items"] if item["unit_path"].startswith(village_path + ".")]

    page = phone("admin")
    page.goto(server.url("/app/admin"))
    assert page.locator(".matrix").is_visible()
    page.get_by_label("级别").select_option("3")
    page.get_by_label("村 / 组").select_option(village_path)
    page.get_by_label("只看逾期").check()
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"level=3"))
    cards = page.locator(".pending-list .pass-card")
    assert cards.count() == len(in_village)
    plates = sorted(cards.locator(".plate").all_text_contents())
    assert plates == sorted(item["plate"] for item in in_village)
    for text in cards.all_text_contents():
        assert "第3级" in text and "逾期" in text
    screenshot(page, "admin-pending")

    first = in_village[0]
    page.locator(f'a[href="/app/passes/{first["id"].lower()}"]').click()
    page.wait_for_url(re.compile(first["id"].lower()))
    assert first["plate"] in page.locator("main").inner_text()


def test_admin_downloads_the_filtered_csv(phone, server):
    page = phone("admin")
    page.goto(server.url("/app/admin?level=2&overdue=1"))
    shown = sorted(page.locator(".pending-list .pass-card .plate").all_text_contents())
    assert shown, "the demo has passes waiting at level 2"
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载CSV（当前筛选）").click()
    download = download_info.value
    text = open(download.path(), encoding="utf-8-sig").read()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["通行证ID", "车牌", "村"]
    body = rows[1:]
    assert sorted(row[1] for row in body) == shown
    assert all(row[5] == "2" and row[10] == "逾期" for row in body)


def test_admin_report_shows_the_seed_figures_in_text_and_svg(phone, server):
    page = phone("admin")
    page.goto(server.url("/app/admin/report"))
    figures = {}
    for group in page.locator(".report-figures .figure").all():
        figures.setdefault(group.locator("dt").inner_text(), int(group.locator("dd").inner_text()))
    assert figures["网格"] == SEED["grids"]
    assert figures["已开具"] == SEED["agricultural"]
    assert figures["体检"] == SEED["exams"]
    assert figures["发证"] == SEED["exams"]
    assert figures["省内"] == SEED["inside"]
    assert figures["省外"] == SEED["outside"]
    assert figures["车次"] == SEED["trips"]
    assert figures["务工人员"] == SEED["workers"]
    assert figures["贫困户务工人员"] == SEED["poor"]

    def labels(chart):
        return page.locator(f"#chart-{chart} svg text.chart-value").all_text_contents()

    assert labels("scope") == [str(SEED["exams"]), str(SEED["exams"]), str(SEED["inside"]), str(SEED["outside"])]
    assert labels("transport") == [str(SEED["trips"]), str(SEED["workers"]), str(SEED["poor"])]
    assert sum(int(value) for value in labels("agricultural")) == SEED["agricultural"]
    assert sum(int(value) for value in labels("certificates")) == SEED["exams"]
    assert sum(int(value) for value in labels("grids")) == SEED["grids"]
    assert f"共{SEED['agricultural']}张" in page.locator("#chart-agricultural figcaption").inner_text()
    # The line of passes signed per day has a point per day with its count.
    assert page.locator("#chart-signed polyline").count() == 1
    assert page.locator("#chart-signed circle").count() >= 1
    screenshot(page, "admin-report")

    # The print view drops the navigation and the filters.
    page.emulate_media(media="print")
    assert not page.locator(".tabbar").is_visible()
    assert not page.locator("form.filters").is_visible()
    assert page.locator("#chart-scope svg").is_visible()
    page.emulate_media(media="screen")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载CSV").click()
    rows = list(csv.reader(io.StringIO(open(download_info.value.path(), encoding="utf-8-sig").read())))
    values = {(row[0], row[1]): row[2] for row in rows[1:]}
    assert values[("健康证", "省外")] == str(SEED["outside"])
    assert values[("定向运输", "贫困户务工人员")] == str(SEED["poor"])


def test_report_filter_by_village_and_bad_date(phone, server):
    page = phone("admin")
    page.goto(server.url("/app/admin/report"))
    options = page.locator("#r-unit option")
    assert options.count() > 2
    village = options.nth(1)
    name, value = village.inner_text(), village.get_attribute("value")
    page.get_by_label("范围").select_option(value)
    page.get_by_role("button", name="查看").click()
    assert name in page.locator(".report-title").inner_text()
    in_village = int(page.locator(".report-figures .figure").filter(has_text="网格员").locator("dd").inner_text())
    assert 0 < in_village < SEED["grids"]
    # A date that is not one gets a Chinese page, not a server error.
    response = page.goto(server.url("/app/admin/report?from=2020-13-40"))
    assert response.status == 422
    assert "无法完成" in page.title()


def test_admin_pages_refuse_a_grid_worker(phone, server):
    page = phone("gw01")
    response = page.goto(server.url("/app/admin"))
    assert response.status == 403
    assert "无权办理" in page.title()


def test_admin_suspends_a_user_whose_open_session_ends_on_the_next_request(phone, server):
    signer = phone("gw61")
    signer.goto(server.url("/app"))
    assert "/app/login" not in signer.url

    admin = phone("admin")
    admin.goto(server.url("/app/admin/users?q=gw61"))
    admin.locator(".cards a").filter(has_text="gw61").first.click()
    assert "正常" in admin.locator("main").inner_text()
    # A reason is required: the browser keeps the form until one is given.
    admin.get_by_label("停用原因").fill("调离网格，暂停使用")
    admin.get_by_role("button", name="停用账号").click()
    assert "账号已停用" in admin.locator(".notice-ok").inner_text()
    assert "已停用" in admin.locator("main .tag").first.inner_text()
    screenshot(admin, "admin-user-suspended")

    # The suspended user's next request ends their session: back to the login page.
    signer.goto(server.url("/app/inbox"))
    assert "/app/login" in signer.url
    user_id = admin.url.split("/app/admin/users/")[1].split("?")[0]
    trail = server.audit(user_id)
    events = [entry for entry in trail["events"] if entry["event"] == "suspend"]
    assert events and events[-1]["reason"] == "调离网格，暂停使用"

    admin.get_by_label("恢复原因").fill("回到岗位")
    admin.get_by_role("button", name="恢复账号").click()
    assert "账号已恢复" in admin.locator(".notice-ok").inner_text()


def test_admin_reads_the_policy_in_force_and_each_machine(phone, server):
    page = phone("admin")
    page.goto(server.url("/app/admin/policy"))
    text = page.locator("main").inner_text()
    assert "停放满14天可申请通行证" in text
    assert page.locator("main ol li").count() == 5
    machines = page.locator(".policy-machine")
    assert machines.count() == 9
    certificate = page.locator("#machine-certificate_request")
    assert "workers.yaml 版本" in certificate.inner_text()
    events = certificate.locator("tbody tr td:nth-child(2)").all_text_contents()
    assert set(events) == {"file", "verify", "pass", "fail", "cancel", "revoke"}
    certificate.locator("summary").click()
    assert "stateDiagram" in certificate.locator(".mermaid-source").inner_text()
