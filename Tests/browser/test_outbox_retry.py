"""The outbox on a phone told to wait (429 too_many_requests, 503): the decision stays 待发送
and is sent again by itself after Retry-After, once; it is never shown as refused."""
import json

from playwright.sync_api import expect

from conftest import PHONE, sign_in


def sign_events(server, pass_id):
    return [event for event in server.audit(pass_id)["events"] if event["event"] == "sign"]


def test_a_decision_answered_429_then_503_waits_and_is_sent_again(server, browser):
    filed = server.ready_passes("gw02", 1)[0]
    # No service worker, so that the page's own requests can be answered by the test.
    context = browser.new_context(**PHONE, service_workers="block")
    try:
        page = context.new_page()
        sign_in(page, server, "gw02")
        page.goto(server.url(f"/app/passes/{filed['id']}"))
        answers = [
            (429, "2", "操作太频繁，请稍后再试（约 2 秒后）。这次提交没有保存。"),
            (503, "2", "系统暂时连不上数据库，请稍后再试。您填写的内容没有丢失。"),
        ]
        seen = []

        def limited(route):
            # What the service answers past the rate limit, and while its database is down.
            if answers:
                status, retry_after, message = answers.pop(0)
                seen.append(status)
                route.fulfill(status=status, headers={"Retry-After": retry_after, "Content-Type": "application/json"},
                              body=json.dumps({"result": "refused", "message": message}))
            else:
                seen.append("sent")
                route.continue_()

        page.route("**/app/passes/*/sign", limited)
        page.get_by_role("button", name="同意", exact=True).click()
        item = page.locator(".outbox-item", has_text=filed["plate"])
        expect(item).to_contain_text("待发送")
        expect(item).to_contain_text("稍后自动重试")
        expect(item).not_to_contain_text("未通过")
        # Sent again by the outbox itself after each Retry-After, with the same key.
        expect(item).to_contain_text("已同步", timeout=30000)
        assert seen == [429, 503, "sent"]
        assert len(sign_events(server, filed["id"])) == 1
        assert server.pass_state(filed["id"])["pending_level"] == 2
    finally:
        context.close()
