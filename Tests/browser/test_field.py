"""A grid worker in the field: vehicles, keys, violations, passes, returnees; offline too."""
import re
import uuid

from playwright.sync_api import expect

from conftest import screenshot

XSS = '<script>window.__xss=1</script>'


def fresh_plate():
    digits = str(uuid.uuid4().int)[-5:]
    return "川Q" + digits


def register_vehicle(page, server, plate, place="村委会院坝"):
    page.goto(server.url("/app/vehicles/new"))
    page.get_by_label("号牌").fill(plate)
    owner = page.get_by_label("车主（本网格住户）")
    owner.select_option(index=1)
    page.get_by_label("停放地点").fill(place)
    page.get_by_role("button", name="登记并签停放承诺书").click()


def test_register_a_vehicle_deposit_its_key_and_record_a_violation(server, phone):
    page = phone("gw05")
    plate = fresh_plate()
    register_vehicle(page, server, plate, place="院坝 " + XSS)
    expect(page.locator(".notice-ok")).to_contain_text("已登记")
    expect(page.locator(".plate-large")).to_have_text(plate)
    expect(page.locator(".facts")).to_contain_text("院坝 " + XSS)
    assert page.evaluate("window.__xss") is None
    # Parked today: the date from which a pass may be applied for is shown.
    expect(page.locator(".notice-conflict")).to_contain_text("起可申请通行证")

    page.get_by_label("收据编号").fill("钥-2026-001")
    page.get_by_role("button", name="登记交钥匙").click()
    expect(page.locator(".notice-ok")).to_contain_text("钥匙已交村代管")
    expect(page.locator("#key-state")).to_contain_text("钥匙代管中")

    page.get_by_label("交给谁").fill("村委会 王会计")
    page.get_by_role("button", name="转交").click()
    expect(page.locator("#key-state")).to_contain_text("村委会 王会计保管")

    page.get_by_label("发现的情况（必填）").fill("未满14天上路行驶")
    page.get_by_role("button", name="记录违规").click()
    expect(page.locator(".notice-ok")).to_contain_text("已记录违规")
    expect(page.get_by_text("未满14天上路行驶")).to_be_visible()
    screenshot(page, "vehicle")

    page.goto(server.url("/app/vehicles"))
    expect(page.locator(".vehicle-card", has_text=plate)).to_contain_text("钥匙代管中")


def test_an_invalid_plate_is_refused_in_chinese_and_nothing_is_saved(server, phone):
    page = phone("gw05")
    page.goto(server.url("/app/vehicles"))
    before = page.locator(".vehicle-card").count()
    register_vehicle(page, server, "<b>x</b>")
    item = page.locator(".outbox-item").last
    expect(item).to_contain_text("未通过")
    expect(item).to_contain_text("「号牌」填写有误")
    page.goto(server.url("/app/vehicles"))
    expect(page.locator(".vehicle-card")).to_have_count(before)


def test_apply_for_a_pass_when_clearance_is_due(server, phone):
    page = phone("gw03")
    page.goto(server.url("/app/vehicles"))
    screenshot(page, "vehicles")
    page.locator(".vehicle-card", has_text="可申请通行证").first.locator("a").click()
    plate = page.locator(".plate-large").inner_text()
    page.get_by_role("button", name="申请通行证").click()
    expect(page).to_have_url(re.compile(r"/app/passes/"))
    expect(page.locator(".plate-large")).to_have_text(plate)
    expect(page.locator(".timeline .step").first).to_contain_text("待签")


def test_a_returnee_is_registered_and_a_fever_is_flagged_at_once(server, phone):
    page = phone("gw06")
    page.goto(server.url("/app/returnees/new"))
    page.get_by_label("返乡人员（已登记的住户成员）").select_option(index=1)
    page.get_by_label("从哪个省返回").fill("湖北")
    page.get_by_label("城市（可选）").fill("武汉")
    page.get_by_role("button", name="登记").click()
    expect(page.locator("#placement")).to_contain_text("集中隔离（重点疫区，强制）")
    expect(page.locator(".card").first).to_contain_text("重点疫区")
    page.get_by_label("体温（°C）").fill("38.2")
    page.get_by_role("button", name="记录体温").click()
    expect(page.locator(".notice-error").first).to_contain_text("已立即上报卫生院")
    expect(page.locator(".result-error").first).to_contain_text("38.2°C 发热")
    screenshot(page, "returnee")

    page.locator("a", has_text="分（满").click()
    page.get_by_label("情形").select_option("visited_other_household")
    page.get_by_role("button", name="记入积分").click()
    expect(page.locator(".notice-ok")).to_contain_text("已记入积分")
    expect(page.locator("#points")).to_contain_text("积分 10 分")


def test_offline_decisions_and_a_registration_sync_once_when_back_online(server, phone):
    filed = server.ready_passes("gw03", 2)
    page = phone("gw03")
    page.goto(server.url("/app/inbox"))
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    assert page.evaluate("!!navigator.serviceWorker.controller")
    # Seen while online: the inbox, both passes and the registration form are kept on the phone.
    for item in filed:
        page.goto(server.url(f"/app/passes/{item['id']}"))
        expect(page.get_by_role("button", name="同意", exact=True)).to_be_visible()
    page.goto(server.url("/app/vehicles/new"))
    expect(page.get_by_label("号牌")).to_be_visible()

    page.context.set_offline(True)
    for item in filed:
        page.goto(server.url(f"/app/passes/{item['id']}"))
        page.get_by_role("button", name="同意", exact=True).click()
        expect(page.locator(".outbox-item", has_text="同意 " + item["plate"])).to_contain_text("待发送")
    expect(page.locator("#offline-banner")).to_be_visible()
    plate = fresh_plate()
    page.goto(server.url("/app/vehicles/new"))
    page.get_by_label("号牌").fill(plate)
    page.get_by_label("车主（本网格住户）").select_option(index=2)
    page.get_by_label("停放地点").fill("本户院坝")
    page.get_by_role("button", name="登记并签停放承诺书").click()
    outbox = page.locator(".outbox-item")
    expect(outbox).to_have_count(3)
    for index in range(3):
        expect(outbox.nth(index)).to_contain_text("待发送")
    screenshot(page, "offline-outbox")

    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    for index in range(3):
        expect(outbox.nth(index)).to_contain_text("已同步", timeout=20000)
    expect(page.locator("#offline-banner")).to_be_hidden()

    # Each exactly once on the server, with its audit row.
    for item in filed:
        state = server.pass_state(item["id"])
        assert state["pending_level"] == 2
        signs = [event for event in server.audit(item["id"])["events"] if event["event"] == "sign"]
        assert len(signs) == 1
    token = server.token("gw03")
    status, keys = server.call("GET", "/keys", token=token)
    page.goto(server.url("/app/vehicles"))
    expect(page.locator(".vehicle-card", has_text=plate)).to_have_count(1)
    # Loading the page again replays nothing twice.
    page.reload()
    expect(page.locator(".vehicle-card", has_text=plate)).to_have_count(1)


def test_an_offline_decision_that_lost_a_race_shows_as_a_conflict(server, phone):
    filed = server.ready_passes("gw03", 1)[0]
    page = phone("gw03")
    page.goto(server.url("/app/inbox"))
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.goto(server.url(f"/app/passes/{filed['id']}"))
    expect(page.get_by_role("button", name="同意", exact=True)).to_be_visible()
    page.context.set_offline(True)
    page.get_by_role("button", name="同意", exact=True).click()
    expect(page.locator(".outbox-item", has_text=filed["plate"])).to_contain_text("待发送")
    # Meanwhile the same pass is withdrawn from another phone.
    status, body = server.call("POST", f"/passes/{filed['id']}/withdraw", {"reason": "车主不再出行"},
                               token=server.token("gw03"))
    assert status == 200, body
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    item = page.locator(".outbox-item", has_text=filed["plate"])
    expect(item).to_contain_text("冲突", timeout=20000)
    expect(item).to_contain_text("该事项已由他人处理")
    assert server.pass_state(filed["id"])["status"] == "withdrawn"
