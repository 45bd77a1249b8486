"""The five signers on their phones: inbox, timeline, decisions, races, batches, sessions."""
import re
import uuid

from playwright.sync_api import expect

from conftest import PASSWORD, screenshot, sign_in

CHAIN = ["lianhe_g1_leader", "lianhe_secretary", "lianhe_stationed", "chief"]
XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


def open_from_inbox(page, server, plate):
    page.goto(server.url("/app/inbox"))
    card = page.locator(".pass-card", has_text=plate)
    expect(card).to_be_visible()
    card.locator("a.pass-link").click()
    expect(page.locator(".plate-large")).to_have_text(plate)


def sign_events(server, pass_id):
    return [event for event in server.audit(pass_id)["events"] if event["event"] == "sign"]


def test_the_five_signers_sign_in_turn_and_the_pass_takes_effect(server, phone):
    filed = server.ready_passes("gw02", 1)[0]
    for number, login in enumerate(["gw02"] + CHAIN, start=1):
        page = phone(login)
        open_from_inbox(page, server, filed["plate"])
        step = page.locator(".timeline .step").nth(number - 1)
        expect(step).to_contain_text("待签")
        expect(step).to_contain_text("当前待签人")
        if number == 1:
            screenshot(page, "pass-detail")
        page.get_by_role("button", name="同意", exact=True).click()
        expect(page.locator(".notice-ok")).to_contain_text("已同意")
        expect(page.locator(".timeline .step").nth(number - 1)).to_contain_text("已同意")
    expect(page.locator("#pass-state")).to_have_text("已生效")
    expect(page.locator(".pass-head")).to_contain_text("通行证编号")
    screenshot(page, "pass-effective")
    state = server.pass_state(filed["id"])
    assert state["status"] == "effective"
    assert [level["status"] for level in state["chain"]] == ["signed"] * 5
    assert len(sign_events(server, filed["id"])) == 5


def test_inbox_shows_cards_with_level_wait_and_overdue_and_finds_by_plate(server, phone):
    page = phone("lianhe_secretary")
    page.goto(server.url("/app/inbox"))
    # The demo's 2020 passes waiting at level 3 are long overdue.
    cards = page.locator(".pass-card")
    expect(cards.first).to_be_visible()
    first = cards.first
    expect(first).to_contain_text("第3级 支部书记")
    expect(first).to_contain_text("已等待")
    expect(first).to_contain_text("逾期")
    expect(first).to_contain_text("联合村")
    badge = page.locator(".tabbar .badge")
    expect(badge).to_have_text(str(cards.count()))
    screenshot(page, "inbox")
    plate = first.locator(".plate").inner_text()
    page.get_by_label("按号牌搜索").fill(plate[-4:].lower())
    page.get_by_role("button", name="搜索").click()
    expect(page.locator(".pass-card")).to_have_count(1)
    expect(page.locator(".pass-card .plate")).to_have_text(plate)
    page.get_by_role("link", name=re.compile("我已处理")).click()
    expect(page.locator(".tabs-selected")).to_have_text("我已处理")
    page.get_by_role("link", name=re.compile("全部")).click()
    expect(page.locator(".pass-card").first).to_be_visible()


def test_a_rejection_needs_a_reason_and_the_applicant_resubmits(server, phone):
    filed = server.ready_passes("gw02", 1)[0]
    gw = phone("gw02")
    open_from_inbox(gw, server, filed["plate"])
    gw.get_by_role("button", name="同意", exact=True).click()
    expect(gw.locator(".notice-ok")).to_be_visible()

    leader = phone("lianhe_g1_leader")
    open_from_inbox(leader, server, filed["plate"])
    # Without a reason the page refuses: the browser keeps the form and nothing is sent.
    leader.get_by_role("button", name="拒绝").click()
    expect(leader.get_by_label("拒绝理由（必填）")).to_have_js_property("validity.valueMissing", True)
    assert server.pass_state(filed["id"])["status"] == "pending"
    # The draft survives a reload.
    leader.get_by_label("拒绝理由（必填）").fill("停放期间有违规记录 " + XSS)
    leader.reload()
    expect(leader.get_by_label("拒绝理由（必填）")).to_have_value("停放期间有违规记录 " + XSS)
    leader.get_by_role("button", name="拒绝").click()
    expect(leader.locator(".notice-ok")).to_contain_text("已拒绝")
    expect(leader.locator("#pass-state")).to_have_text("已退回")

    # The applicant side sees the reason as text, and resubmits.
    open_applicant = phone("gw02")
    open_applicant.goto(server.url(f"/app/passes/{filed['id']}"))
    reason = open_applicant.locator(".timeline .reason")
    expect(reason).to_have_text("拒绝理由：停放期间有违规记录 " + XSS)
    assert open_applicant.evaluate("window.__xss") is None
    open_applicant.get_by_role("button", name="重新提交").click()
    expect(open_applicant.locator(".notice-ok")).to_contain_text("已重新提交")
    expect(open_applicant.locator(".pass-head")).to_contain_text("第2轮")
    state = server.pass_state(filed["id"])
    assert state["status"] == "pending" and state["pending_level"] == 1 and len(state["rounds"]) == 2


def test_a_double_tap_makes_one_signature(server, phone):
    filed = server.ready_passes("gw02", 1)[0]
    page = phone("gw02")
    page.goto(server.url(f"/app/passes/{filed['id']}"))
    button = page.get_by_role("button", name="同意", exact=True)
    button.dblclick()
    expect(page.locator(".notice-ok")).to_contain_text("已同意")
    assert len(sign_events(server, filed["id"])) == 1
    state = server.pass_state(filed["id"])
    assert state["pending_level"] == 2


def test_a_retried_decision_with_the_same_key_is_replayed(server, phone):
    filed = server.ready_passes("gw02", 1)[0]
    page = phone("gw02")
    page.goto(server.url(f"/app/passes/{filed['id']}"))
    form = page.locator("form[action$='/sign']")
    fields = {name: form.locator(f"input[name={name}]").input_value()
              for name in ["csrf", "idempotency_key", "level", "version"]}
    url = server.url(f"/app/passes/{filed['id']}/sign")
    first = page.request.post(url, form=fields, headers={"Accept": "application/json"})
    second = page.request.post(url, form=fields, headers={"Accept": "application/json"})
    assert first.json()["result"] == "ok"
    assert second.json()["result"] == "replayed"
    assert len(sign_events(server, filed["id"])) == 1


def test_two_signers_race_and_the_loser_sees_it_was_handled(server, phone):
    admin = server.token("admin")
    status, units = server.call("GET", "/units?kind=group", token=admin)
    group = next(unit for unit in units["units"] if unit["code"] == "lianhe_g1")
    username = "g1_leader_b_" + uuid.uuid4().hex[:6]
    status, body = server.call("POST", "/users", {
        "username": username, "display_name": "组长乙" + XSS, "password": PASSWORD,
        "roles": [{"role": "group_leader", "unit_id": group["id"]}]}, token=admin)
    assert status == 201, body
    filed = server.ready_passes("gw02", 1)[0]
    gw = server.token("gw02")
    status, _ = server.call("POST", f"/passes/{filed['id']}/sign", {"level": 1}, token=gw)
    assert status == 200

    winner = phone(username)
    loser = phone("lianhe_g1_leader")
    for page in (winner, loser):
        page.goto(server.url(f"/app/passes/{filed['id']}"))
        expect(page.get_by_role("button", name="同意", exact=True)).to_be_visible()
    winner.get_by_role("button", name="同意", exact=True).click()
    expect(winner.locator(".notice-ok")).to_contain_text("已同意")
    # The winner's name, with markup in it, shows as text in the timeline.
    expect(winner.locator(".timeline .step").nth(1)).to_contain_text("组长乙" + XSS)
    assert winner.evaluate("window.__xss") is None

    loser.get_by_role("button", name="同意", exact=True).click()
    notice = loser.locator(".notice-conflict")
    expect(notice).to_contain_text("该事项已由他人处理")
    expect(loser.locator(".timeline .step").nth(1)).to_contain_text("已同意")
    expect(loser.locator(".timeline .step").nth(2)).to_contain_text("待签")
    screenshot(loser, "handled-elsewhere")
    assert len(sign_events(server, filed["id"])) == 2


def test_batch_sign_of_ten(server, phone):
    filed = server.ready_passes("gw04", 10)
    page = phone("gw04")
    page.goto(server.url("/app/inbox"))
    for item in filed:
        page.locator(".pass-card", has_text=item["plate"]).locator("input.pick").check()
    screenshot(page, "batch")
    page.get_by_role("button", name="批量同意").click()
    expect(page.locator(".notice-ok")).to_contain_text("共 10 件，10 件已签字")
    expect(page.locator(".result-ok")).to_have_count(10)
    for item in filed:
        assert server.pass_state(item["id"])["pending_level"] == 2
        assert len(sign_events(server, item["id"])) == 1


def test_an_out_of_jurisdiction_address_shows_a_refusal_page(server, phone):
    filed = server.ready_passes("gw02", 1)[0]
    page = phone("gw08")  # a grid worker of 联合村2组
    response = page.goto(server.url(f"/app/passes/{filed['id']}"))
    assert response.status == 403
    expect(page.locator(".notice-error")).to_contain_text("不在您的辖区内")
    page = phone("minzhu_secretary")
    response = page.goto(server.url(f"/app/passes/{filed['id']}"))
    assert response.status == 403
    missing = page.goto(server.url(f"/app/passes/{uuid.uuid4()}"))
    assert missing.status == 404
    expect(page.locator(".notice-error")).to_contain_text("没有找到")


def test_a_post_without_the_csrf_token_is_refused(server, phone):
    filed = server.ready_passes("gw02", 1)[0]
    page = phone("gw02")
    page.goto(server.url(f"/app/passes/{filed['id']}"))
    url = server.url(f"/app/passes/{filed['id']}/sign")
    refused = page.request.post(url, form={"level": "1", "idempotency_key": "k-" + uuid.uuid4().hex})
    assert refused.status == 403
    assert "页面已过期" in refused.text()
    forged = page.request.post(url, form={"level": "1", "csrf": "0" * 64})
    assert forged.status == 403
    assert server.pass_state(filed["id"])["pending_level"] == 1
    assert sign_events(server, filed["id"]) == []


def test_logout_ends_the_session(server, phone):
    page = phone("lianhe_stationed")
    token = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "signoff_session")
    cookie = next(cookie for cookie in page.context.cookies() if cookie["name"] == "signoff_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.get_by_role("button", name="退出").click()
    expect(page.locator(".notice-ok")).to_contain_text("已退出登录")
    page.goto(server.url("/app/inbox"))
    expect(page).to_have_url(re.compile(r"/app/login"))
    status, _ = server.call("GET", "/me", token=token)
    assert status == 401


def test_wrong_password_is_told_in_chinese(server, phone):
    page = phone()
    page.goto(server.url("/app/login"))
    screenshot(page, "login")
    page.get_by_label("账号或手机号").fill("chief")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    expect(page.locator(".notice-error")).to_contain_text("账号或密码不对")
    sign_in(page, server, "chief")
    expect(page.locator(".big-button").first).to_contain_text("待我审批")
