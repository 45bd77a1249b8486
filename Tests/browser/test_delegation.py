"""委托代签 on phones: a 驻村领导 names a delegate on the web, the delegate signs for them.

Uses two 驻村领导 accounts of 联合村 made for this test (the demo has one per village, and the
other tests use it) and a vehicle of gw06, gw07 or gw01, whose vehicles no other browser test uses.
"""
import re
import uuid

from playwright.sync_api import expect

from conftest import PASSWORD, screenshot


def make_stationed(server, admin, name):
    status, units = server.call("GET", "/units?kind=village", token=admin)
    assert status == 200, units
    village = next(unit for unit in units["units"] if unit["code"] == "lianhe")
    username = "stationed_" + uuid.uuid4().hex[:8]
    status, body = server.call("POST", "/users", {
        "username": username, "display_name": name, "password": PASSWORD,
        "roles": [{"role": "village_leader", "unit_id": village["id"]}]}, token=admin)
    assert status == 201, body
    return username, body["id"]


def test_a_signer_names_a_delegate_on_the_web_and_the_delegate_signs_for_them(server, phone):
    admin = server.token("admin")
    suffix = uuid.uuid4().hex[:4]
    delegator_name, delegate_name = "驻村领导甲" + suffix, "驻村领导乙" + suffix
    delegator, _ = make_stationed(server, admin, delegator_name)
    delegate, delegate_id = make_stationed(server, admin, delegate_name)

    # Set-up through the API: a pass signed at levels 1 to 3, waiting for the 驻村领导.
    grid_worker, filed = None, None
    for candidate in ("gw06", "gw07", "gw01"):
        try:
            grid_worker, filed = candidate, server.ready_passes(candidate, 1)[0]
            break
        except AssertionError:
            continue
    assert filed, "no parked vehicle of gw06, gw07 or gw01 could apply"
    for level, login in enumerate([grid_worker, "lianhe_g1_leader", "lianhe_secretary"], start=1):
        status, body = server.call("POST", f"/passes/{filed['id']}/sign", {"level": level}, token=server.token(login))
        assert status == 200, body

    # The delegator names the delegate from 首页 → 委托代签.
    page = phone(delegator)
    page.get_by_role("link", name=re.compile("委托代签")).click()
    expect(page).to_have_url(re.compile(r"/app/delegations$"))
    label = next(text for text in page.locator("#delegate option").all_inner_texts() if delegate_name in text)
    page.get_by_label("被委托人").select_option(label=label)
    page.get_by_label("原因（必填）").fill("到县里开会三天")
    page.get_by_role("button", name="设立委托").click()
    expect(page.locator(".notice-ok")).to_contain_text("委托已生效")
    card = page.locator(".delegation-card").first
    expect(card).to_contain_text(f"{delegator_name} 委托 {delegate_name} 代签")
    expect(card).to_contain_text("生效中")
    number = int(card.get_attribute("data-delegation"))
    screenshot(page, "delegations")

    # The delegate sees the item marked 代 X 签 and signs it.
    signer = phone(delegate)
    signer.goto(server.url("/app/inbox"))
    item = signer.locator(".pass-card", has_text=filed["plate"])
    expect(item).to_contain_text(f"代 {delegator_name} 签（委托 #{number}）")
    item.locator("a.pass-link").click()
    expect(signer.locator("#on-behalf")).to_contain_text(f"代 {delegator_name} 签")
    signer.get_by_role("button", name="同意（代签）").click()
    expect(signer.locator(".notice-ok")).to_contain_text("已同意")
    step = signer.locator(".timeline .step").nth(3)
    expect(step).to_contain_text("已同意")
    expect(step).to_contain_text(f"由 {delegate_name} 代 {delegator_name} 签（委托 #{number}）")
    step.scroll_into_view_if_needed()
    screenshot(signer, "delegated-signature")

    # The record names both people and the delegation.
    sign = [event for event in server.audit(filed["id"])["events"] if event["event"] == "sign"][-1]
    assert sign["actor_user_id"] == delegate_id
    assert sign["payload"]["delegation_number"] == number
    assert sign["payload"]["on_behalf_of_name"] == delegator_name
    state = server.pass_state(filed["id"])
    assert state["chain"][3]["signer"]["on_behalf_of_name"] == delegator_name
    assert state["pending_level"] == 5

    # The delegator ends it early; it no longer shows on the delegate's side.
    page.goto(server.url("/app/delegations"))
    page.get_by_role("button", name=f"撤销委托 #{number}").click()
    expect(page.locator(".notice-ok")).to_contain_text("委托已撤销")
    expect(page.locator(f'.delegation-card[data-delegation="{number}"]')).to_contain_text("已撤销")

    # Leave the pass effective, so other tests' inboxes are as they were.
    status, body = server.call("POST", f"/passes/{filed['id']}/sign", {"level": 5}, token=server.token("chief"))
    assert status == 200, body
