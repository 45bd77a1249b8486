"""A migrant worker (务工人员) in the browser, without JavaScript: activation with the one-time
code, a 健康证 request followed to issue while the village and the health centre act in their
own browser contexts, the certificate with its QR code, and "not found" for anyone else's."""
import random
import re
import uuid

from conftest import PHONE, screenshot, sign_in

PASSWORD = "worker-" + uuid.uuid4().hex[:8]


def _new_worker(server):
    """A person of grid01 without an account, given one by their grid worker (set-up, via the API)."""
    token = server.token("gw01")
    status, listed = server.call("GET", "/certificate-requests", token=token)
    assert status == 200, listed
    status, me = server.call("GET", "/me", token=server.token("worker01"))
    assert status == 200, me
    taken = {me.get("person_id")}
    for item in listed["requests"]:
        if item["person_id"] in taken:
            continue
        phone = "139" + "".join(random.choice("0123456789") for _ in range(8))
        status, created = server.call("POST", "/worker-accounts", {"person_id": item["person_id"], "phone": phone}, token=token)
        if status == 201:
            others = [other for other in listed["requests"] if other["person_id"] != item["person_id"]]
            return phone, created["activation_code"], item["person_id"], others[0]["id"]
    raise AssertionError("no person of grid01 without an account")


def test_worker_activates_requests_and_follows_to_issue(browser, phone, server):
    mobile, code, person_id, someone_elses = _new_worker(server)
    context = browser.new_context(**PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(server.url("/app/login"))
        page.get_by_role("link", name="设置密码").click()
        assert "8到72个字符" in page.locator("#password-rules").inner_text()
        page.get_by_label("手机号").fill(mobile)
        page.get_by_label("激活码（8位数字）").fill("00000000" if code != "00000000" else "11111111")
        page.get_by_label("新密码", exact=True).fill(PASSWORD)
        page.get_by_label("再输入一次新密码").fill(PASSWORD)
        page.get_by_role("button", name="激活并登录").click()
        assert "激活码不对" in page.locator(".notice-error").inner_text()

        page.get_by_label("激活码（8位数字）").fill(code)
        page.get_by_label("新密码", exact=True).fill(PASSWORD)
        page.get_by_label("再输入一次新密码").fill(PASSWORD)
        screenshot(page, "worker-activate")
        page.get_by_role("button", name="激活并登录").click()
        page.wait_for_url(re.compile(r"/app/certificates$"))

        page.get_by_role("link", name="申请健康证").click()
        page.get_by_label("四川省外").check()
        page.get_by_label("目的地省份（去省外时填写）").fill("浙江")
        page.get_by_label("目的地城市").fill("宁波")
        page.get_by_label("务工事由或用工单位").fill("电子厂务工")
        page.get_by_role("button", name="提交申请").click()
        page.wait_for_url(re.compile(r"/app/certificates/[0-9a-f-]{36}$"))
        request_url = page.url
        request_id = request_url.rsplit("/", 1)[1]
        main = page.locator("main")
        assert "待村委会核实" in main.inner_text()
        assert "下一步：村委会核实（网格员或支部书记）" in main.inner_text()
        assert "浙江 宁波（省外）" in main.inner_text()
        screenshot(page, "worker-request")

        # The village verifies, in the branch secretary's own browser.
        secretary = phone("lianhe_secretary")
        secretary.goto(server.url("/app/certificates"))
        assert secretary.locator(f'a[href="/app/certificates/{request_id}"]').count() == 1
        secretary.locator(f'a[href="/app/certificates/{request_id}"]').click()
        secretary.get_by_role("button", name="核实无误").click()
        assert "已核实" in secretary.locator(".notice-ok").inner_text()

        page.reload()
        assert "待卫生院体检" in main.inner_text()
        assert "下一步：到乡卫生院体检" in main.inner_text()

        # The health centre examines and issues, in its own browser.
        health = phone("health")
        health.goto(server.url(f"/app/certificates/{request_id}"))
        health.get_by_role("button", name="体检合格，发健康证").click()
        assert "体检合格，已发证" in health.locator(".notice-ok").inner_text()
        assert "已发证" in health.locator("main").inner_text()

        page.reload()
        assert "已发证" in main.inner_text()
        steps = page.locator(".timeline .step-title").all_text_contents()
        assert steps == ["提交申请", "村委会核实", "卫生院体检", "已发证"]
        page.get_by_role("link", name="出示健康证").click()
        number = page.locator(".certificate-number").inner_text()
        assert re.fullmatch(r"LH-JK-\d{4}-\d{5}", number)
        assert "四川省外" in main.inner_text()
        path = page.locator("svg.qr path").get_attribute("d")
        assert path.startswith("M") and path.count("z") > 50
        verify_url = server.url(f"/app/verify/{request_id}")
        assert verify_url in main.inner_text()
        screenshot(page, "worker-certificate")

        # The checkpoint opens the QR code's address without signing in.
        checkpoint = phone()
        checkpoint.goto(verify_url)
        assert "健康证有效" in checkpoint.locator("main").inner_text()
        assert number in checkpoint.locator("main").inner_text()

        # Anyone else's request, and an id that does not exist, answer the same page.
        # (Only the request id the page gives for a report to the office differs.)
        def shown():
            return re.sub(r"[0-9A-Za-z-]{10,}", "<request id>", main.inner_text())

        other = page.goto(server.url(f"/app/certificates/{someone_elses}"))
        other_text = shown()
        missing = page.goto(server.url(f"/app/certificates/{uuid.uuid4()}"))
        assert other.status == missing.status == 404
        assert other_text == shown()
        assert "没有找到该记录" in other_text
        page.goto(server.url(f"/app/certificates/{someone_elses}/certificate"))
        assert shown() == other_text

        page.goto(server.url("/app/trips"))
        assert "定向运输" in page.title()
    finally:
        context.close()

