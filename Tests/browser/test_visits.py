"""上下午走访: a grid worker records the morning's visits on the home screen, one of them offline,
reports a change that opens the returnee registration; the township office sees the coverage."""
import re

from playwright.sync_api import expect

from conftest import screenshot

GRID_WORKER = "gw12"


def morning(page, index):
    """The morning row of the index-th household on the home screen."""
    return page.locator(".visit-household").nth(index).locator(".visit-half[data-slot$=' am']")


def test_a_grid_worker_records_the_mornings_visits_one_offline_and_a_change(server, phone):
    page = phone(GRID_WORKER)
    page.goto(server.url("/app"))
    expect(page.locator("#visits-title")).to_contain_text("今日走访")
    households = page.locator(".visit-household")
    assert households.count() >= 4
    codes = [households.nth(i).locator(".visit-head strong").inner_text() for i in range(4)]

    # Online: 已走访 is saved at once and the list shows it.
    morning(page, 0).get_by_role("button", name="已走访").click()
    expect(page.locator(".notice-ok")).to_contain_text("已记录走访")
    expect(morning(page, 0).locator(".tag")).to_have_text("已走访")
    expect(page.locator(".visit-progress")).to_contain_text("上午 1/")

    # The list lives at /app/visits too, where the service worker keeps it for offline use.
    expect(page).to_have_url(re.compile(r"/app/visits\?done=visit#h-"))
    # Offline: 不在家 waits on the phone and is sent once when the signal is back.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    assert page.evaluate("!!navigator.serviceWorker.controller")
    page.context.set_offline(True)
    morning(page, 1).get_by_role("button", name="不在家").click()
    item = page.locator(".outbox-item", has_text=codes[1])
    expect(item).to_contain_text("待发送")
    expect(item).to_contain_text("不在家")
    expect(page.locator("#offline-banner")).to_be_visible()
    screenshot(page, "visits-offline")
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(item).to_contain_text("已同步", timeout=20000)
    page.reload()
    expect(morning(page, 1).locator(".tag")).to_have_text("不在家")
    # Found nobody home: the same half-day may be called on again.
    expect(morning(page, 1).get_by_role("button", name="再次走访：已走访")).to_be_visible()
    page.reload()
    expect(page.locator(".visit-progress")).to_contain_text("上午 2/")

    # A change: someone came back from Hubei; the registration is made with the visit.
    row = morning(page, 2)
    row.locator("summary", has_text="有变化").click()
    row.get_by_label("什么变化").select_option("returned")
    row.get_by_label("姓名（不在名单中时）").fill("返乡 测试员")
    row.get_by_label("从哪个省返回（返乡时；不填则转到登记表）").fill("湖北")
    row.get_by_label("城市（可选）").fill("武汉")
    row.get_by_role("button", name="报告变化").click()
    expect(page).to_have_url(re.compile(r"/app/returnees/[0-9a-f-]+\?done=registered"))
    expect(page.locator("#placement")).to_contain_text("集中隔离（重点疫区，强制）")
    screenshot(page, "visits-returnee")

    # A return reported without its origin opens the registration form, prefilled.
    page.goto(server.url("/app/visits"))
    row = morning(page, 3)
    row.locator("summary", has_text="有变化").click()
    row.get_by_label("什么变化").select_option("returned")
    row.get_by_label("姓名（不在名单中时）").fill("返乡 待登记")
    row.get_by_role("button", name="报告变化").click()
    expect(page).to_have_url(re.compile(r"/app/returnees/new\?household_id="))
    expect(page.locator(".notice-ok")).to_contain_text("走访发现有人返乡")
    expect(page.get_by_label("姓名")).to_have_value("返乡 待登记")
    expect(page.get_by_label("所在户").locator("option:checked")).to_contain_text(codes[3])

    page.goto(server.url("/app"))
    for index, state in enumerate(["已走访", "不在家", "有变化", "有变化"]):
        expect(morning(page, index).locator(".tag")).to_have_text(state)
    expect(page.locator(".visit-progress")).to_contain_text("上午 4/")
    households.nth(0).scroll_into_view_if_needed()
    screenshot(page, "visits")


def test_the_office_sees_coverage_per_grid_and_who_is_not_visited(server, phone):
    page = phone("admin")
    page.goto(server.url("/app"))
    page.get_by_role("link", name=re.compile("走访覆盖")).click()
    expect(page.locator("#cov-title")).to_contain_text("（今日）")
    expect(page.locator(".visit-coverage tbody tr")).to_have_count(84)
    # The demo's day of visits: every grid called in the morning, some in the afternoon.
    page.goto(server.url("/app/admin/visits?day=2020-02-20"))
    expect(page.locator("#cov-title")).to_contain_text("2月20日")
    expect(page.locator(".admin-total")).to_contain_text("上午已走访")
    row = page.locator(".visit-coverage tbody tr", has_text="第22网格")
    cells = row.locator("td")
    households = cells.nth(0).inner_text()
    assert cells.nth(1).inner_text() == f"{households}/{households}"
    expect(page.locator(".unvisited li").first).to_contain_text("下午未走访")
    page.locator("#grid-title").scroll_into_view_if_needed()
    screenshot(page, "admin-visits")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载覆盖CSV").click()
    text = open(download.value.path(), encoding="utf-8-sig").read()
    assert text.startswith("日期,村,组,网格,户数,上午已走访,下午已走访,不在家,有变化")
    assert text.count("\n") == 85
