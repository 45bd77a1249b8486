"""A migrant worker with the phone's large-text setting and no JavaScript: activation, a 健康证
request and the certificate with its QR code, with the browser's default font at 200 % (the
setting Chromium keeps as its default font size, set through the DevTools protocol's
Page.setFontSizes), and no page wider than the screen."""
import re
import uuid

from conftest import PHONE, screenshot
from test_worker import _new_worker

PASSWORD = "large-" + uuid.uuid4().hex[:8]


def _no_horizontal_overflow(page):
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{page.url}: scrollWidth {widths[0]} > clientWidth {widths[1]}"


def test_worker_flow_at_200_percent_text_without_javascript(browser, server):
    mobile, code, _, _ = _new_worker(server)
    context = browser.new_context(**PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Page.enable")
        cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 32, "fixed": 26}})
        page.goto(server.url("/app/activate"))
        # The text really is twice the size: the root font follows the browser's setting.
        root = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
        assert root >= 32, root
        _no_horizontal_overflow(page)
        page.get_by_label("手机号").fill(mobile)
        page.get_by_label("激活码（8位数字）").fill(code)
        page.get_by_label("新密码", exact=True).fill(PASSWORD)
        page.get_by_label("再输入一次新密码").fill(PASSWORD)
        page.get_by_role("button", name="激活并登录").click()
        page.wait_for_url(re.compile(r"/app/certificates$"))
        _no_horizontal_overflow(page)

        page.get_by_role("link", name="申请健康证").click()
        _no_horizontal_overflow(page)
        page.get_by_label("四川省内").check()
        page.get_by_label("目的地城市").fill("成都")
        page.get_by_label("务工事由或用工单位").fill("建筑工地")
        page.get_by_role("button", name="提交申请").click()
        page.wait_for_url(re.compile(r"/app/certificates/[0-9a-f-]{36}$"))
        request_id = page.url.rsplit("/", 1)[1]
        assert "待村委会核实" in page.locator("main").inner_text()
        _no_horizontal_overflow(page)
        screenshot(page, "worker-large-text")

        # The village and the health centre act (set-up through the API: not what this test is about).
        status, body = server.call("POST", f"/certificate-requests/{request_id}/verify", {}, token=server.token("gw01"),
                                   headers={"Idempotency-Key": str(uuid.uuid4())})
        assert status == 200, body
        status, body = server.call("POST", f"/certificate-requests/{request_id}/exam", {"result": "pass"},
                                   token=server.token("health"), headers={"Idempotency-Key": str(uuid.uuid4())})
        assert status == 200, body

        page.reload()
        assert "已发证" in page.locator("main").inner_text()
        _no_horizontal_overflow(page)
        page.get_by_role("link", name="出示健康证").click()
        assert re.fullmatch(r"LH-JK-\d{4}-\d{5}", page.locator(".certificate-number").inner_text())
        assert page.locator("svg.qr path").get_attribute("d").startswith("M")
        assert "四川省内" in page.locator("main").inner_text()
        _no_horizontal_overflow(page)
        screenshot(page, "worker-certificate-large-text")

        page.goto(server.url("/app/trips"))
        _no_horizontal_overflow(page)
    finally:
        context.close()
