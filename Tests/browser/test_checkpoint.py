"""卡点核验: a leader at the checkpoint verifies credentials in the page, offline too, and logs
a turn-back that syncs once the phone is back online."""
import subprocess
import uuid
from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect

from conftest import binary, screenshot


def credential_of_worker(phone, server):
    """The signed credential on worker01's health certificate page, as the worker shows it."""
    status, body = server.call("GET", "/certificate-requests", token=server.token("worker01"))
    assert status == 200, body
    issued = [r for r in body["requests"] if r["state"] == "certified"]
    assert issued, body
    page = phone("worker01")
    page.goto(server.url(f"/app/certificates/{issued[0]['id']}/certificate"))
    expect(page.locator(".check-code")).to_have_text(__import__("re").compile(r"^[A-Z2-7]{4}-[A-Z2-7]{4}$"))
    text = page.locator(".credential-text").text_content().strip()
    assert text.startswith("SO1.")
    return text, page.locator(".certificate-number").inner_text()


def sample(server, **options):
    """A sample credential signed with the service's key by `signoff keys sample` (recorded nowhere)."""
    args = [binary(), "keys", "sample", "--data-dir", server.data_dir]
    for name, value in options.items():
        args += ["--" + name.replace("_", "-"), value]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def verify(page, code):
    page.locator("#code").fill(code)
    page.get_by_role("button", name="核验", exact=True).click()


def test_the_checkpoint_verifies_offline_and_logs_a_turn_back_that_syncs(server, phone):
    valid, number = credential_of_worker(phone, server)
    past = datetime.now(timezone.utc) - timedelta(days=10)
    expired = sample(server, kind="vehicle_pass", number="0042", subject="川Q·E0042",
                     valid_from=past.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     valid_until=(past + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    # A forgery: the same contents, one character of the signature changed.
    forged = valid[:-3] + ("A" if valid[-3] != "A" else "B") + valid[-2:]

    page = phone("lianhe_stationed")
    page.goto(server.url("/app/checkpoint"))
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    assert page.evaluate("!!navigator.serviceWorker.controller")
    expect(page.locator("#list-age")).to_contain_text("撤销名单：刚刚更新")
    expect(page.locator("#keys-age")).to_contain_text("签名密钥 1 把")

    # No signal at the road: the page, the keys and the list come from the phone.
    page.context.set_offline(True)
    page.reload()
    expect(page.locator("#list-age")).to_contain_text("无网络")

    verify(page, valid)
    expect(page.locator("#verdict-word")).to_have_text("有效")
    expect(page.locator("#verdict-number")).to_have_text(number)
    expect(page.locator("#verdict-subject")).to_contain_text("*")
    expect(page.locator("#verdict-sample")).to_be_hidden()
    assert page.locator("#decision-release").is_checked()
    screenshot(page, "checkpoint-verify")

    verify(page, forged)
    expect(page.locator("#verdict-word")).to_have_text("签名无效")
    expect(page.locator("#verdict-facts")).to_be_hidden()
    assert page.locator("#log-credential").input_value() == ""

    verify(page, expired)
    expect(page.locator("#verdict-word")).to_have_text("已过期")
    expect(page.locator("#verdict-subject")).to_have_text("川Q·E0042")
    expect(page.locator("#verdict-sample")).to_be_visible()
    assert page.locator("#decision-turn-back").is_checked()
    assert page.locator("#log-reason").input_value() == "credential_refused"

    # A turn-back while offline waits in the outbox.
    plate = "云C·" + str(uuid.uuid4().int)[-5:]
    page.locator("#log-checkpoint").select_option("gaoping")
    page.locator("#log-subject").fill(plate)
    page.locator("#log-reason").select_option("outsider_no_reason")
    page.get_by_role("button", name="记录", exact=True).click()
    item = page.locator(".outbox-item", has_text="卡点记录")
    expect(item).to_contain_text("待发送")
    expect(page.locator("#offline-banner")).to_be_visible()

    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(item).to_contain_text("已同步", timeout=20000)

    # Once on the server, with the time it was made and the checkpoint's roster.
    status, body = server.call("GET", "/checkpoint/checks?limit=200", token=server.token("admin"))
    assert status == 200, body
    mine = [check for check in body["checks"] if check["subject"] == plate]
    assert len(mine) == 1, mine
    assert mine[0]["decision"] == "turn_back" and mine[0]["reason_code"] == "outsider_no_reason"
    assert mine[0]["checkpoint"] == "gaoping" and mine[0]["direction"] == "in"
    assert mine[0]["on_duty"], mine[0]
    status, audit = server.call("GET", f"/audit?subject={mine[0]['id']}", token=server.token("admin"))
    assert [event["event"] for event in audit["events"]] == ["turn_back"]

    # Back online, the list refreshes; a short code is looked up and checked in the page.
    page.goto(server.url("/app/checkpoint"))
    expect(page.locator("#list-age")).to_contain_text("刚刚更新")


def test_a_revoked_pass_is_refused_once_the_list_refreshes(server, phone):
    # An effective pass: the demo's are from 2020 and long expired, so take one through the chain now.
    filed = server.ready_passes("gw03", 1)[0]
    for login, level in [("gw03", 1), ("lianhe_g1_leader", 2), ("lianhe_secretary", 3), ("lianhe_stationed", 4), ("chief", 5)]:
        status, body = server.call("POST", f"/passes/{filed['id']}/sign", {"level": level}, token=server.token(login))
        assert status == 200, (login, body)
    chief = phone("chief")
    chief.goto(server.url(f"/app/passes/{filed['id']}"))
    code = chief.locator("#credential .check-code").inner_text()
    text = chief.locator("#credential .credential-text").text_content().strip()

    page = phone("lianhe_stationed")
    page.goto(server.url("/app/checkpoint"))
    expect(page.locator("#keys-age")).to_contain_text("签名密钥")
    verify(page, code)  # the short code, read out over the phone: looked up online, checked here
    expect(page.locator("#verdict-word")).to_have_text("有效")
    expect(page.locator("#verdict-subject")).to_have_text(filed["plate"].replace(" ", ""))
    assert page.locator("#code").input_value() == text

    chief.get_by_label("吊销理由（必填）").fill("车辆违规载客")
    chief.get_by_role("button", name="吊销通行证").click()
    expect(chief.locator(".notice-ok")).to_contain_text("已吊销")
    expect(chief.locator("#credential")).to_contain_text("此凭证已撤销")

    page.reload()
    expect(page.locator("#list-age")).to_contain_text("共 1 条")
    verify(page, text)
    expect(page.locator("#verdict-word")).to_have_text("已撤销")


def test_the_office_puts_a_leader_on_duty_and_counts_turn_backs(server, phone):
    page = phone("admin")
    page.goto(server.url("/app/admin/duty"))
    day = (datetime.now(timezone.utc) + timedelta(days=8)).strftime("%Y-%m-%d")
    page.get_by_label("日期").fill(day)
    page.get_by_label("卡点", exact=True).select_option("gaoping")
    page.get_by_label("班次").select_option("night")
    page.get_by_label("带班领导").select_option(index=0)
    page.get_by_role("button", name="排班").click()
    expect(page.locator(".duty-day").first).to_contain_text(day)
    expect(page.locator(".duty-day").first).to_contain_text("高坪苗族乡交界卡点 · 夜班")
    page.goto(server.url("/app/admin/checkpoints"))
    expect(page.locator("#checkpoint-report tbody tr").first).to_be_visible()
    assert int(page.locator(".figure dd").first.inner_text()) > 0
    response = page.request.get(server.url("/app/admin/checkpoints.csv"))
    assert response.status == 200 and "劝返" in response.text()
