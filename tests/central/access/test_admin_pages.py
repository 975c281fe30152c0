"""Users and device-keys administration pages: the permission review (SC-15), grants only downward
and never beyond one's own rights (SC-14), device keys shown once, rotated and revoked at once.

Pages are driven through the real sign-in form and session cookie; every form carries the
per-session token, read from the page as a browser would.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.models import DeviceKey, User
from central.access.roles import Role
from central.app import create_app
from central.audit.models import AuditEntry
from central.registry.models import Device
from tests.browser import chromium, local_page, serve, sign_in
from tests.conftest import FakeClock, make_user

PASSWORD = "correct-horse-battery-2026"
USERS = "/console/admin/users"
DEVICES = "/console/admin/devices"
TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def console_sign_in(client: TestClient, username: str) -> TestClient:
    r = client.post(
        "/console/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    return client


def form_token(client: TestClient, path: str = USERS) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = TOKEN.search(page.text)
    assert found, "the page carries no form token"
    return found.group(1)


@pytest.fixture
def root(anon: TestClient, db, clock: FakeClock, registry) -> TestClient:
    """Signed in to the console as the deployment's system supervisor (scope `*`)."""
    make_user(db, "root", now=clock())
    return console_sign_in(anon, "root")


def new_user(**changes: str) -> dict[str, str]:
    form = {
        "username": "alice",
        "display_name": "王丽",
        "password": PASSWORD,
        "role": "inspector",
        "scope": "region:510104",
    }
    return {**form, **changes}


def audit_actions(session: Session) -> list[str]:
    session.expire_all()
    return [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]


def users_in(session: Session) -> set[str]:
    session.expire_all()
    return set(session.scalars(select(User.username)))


# -- who may see the pages ---------------------------------------------------------------------


@pytest.mark.parametrize("path", [USERS, DEVICES])
def test_anonymous_people_are_sent_to_sign_in(anon: TestClient, path: str) -> None:
    r = anon.get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/console/login?next=%2Fconsole%2Fadmin%2F")
    posted = anon.post(path if path == USERS else f"{path}/X/keys", data={}, follow_redirects=False)
    assert posted.status_code == 303 and posted.headers["location"].startswith("/console/login")


def test_a_post_user_gets_a_chinese_403_page(anon: TestClient, db, clock, registry, session) -> None:
    make_user(db, "clerk", role=Role.POST_USER, scope="department:SCJGJ", now=clock())
    console_sign_in(anon, "clerk")
    for path in (USERS, DEVICES):
        r = anon.get(path)
        assert r.status_code == 403
        assert "无权访问" in r.text and "岗位用户" in r.text and "无权管理用户与设备" in r.text
    posted = anon.post(USERS, data=new_user(csrf_token="0" * 64))
    assert posted.status_code == 403 and "alice" not in users_in(session)


# -- the permission review (SC-15) -------------------------------------------------------------


def test_review_lists_my_jurisdiction_with_labels_and_what_is_due(
    anon: TestClient, db, clock: FakeClock, registry
) -> None:
    old = clock() - timedelta(days=200)
    make_user(db, "cityboss", role=Role.SYSTEM_SUPERVISOR, scope="region:510100", now=clock())
    make_user(db, "countyinsp", role=Role.INSPECTOR, scope="region:510104", now=old)
    make_user(db, "countytech", role=Role.SYSADMIN, scope="hall:510104-ZWFW", now=clock())
    make_user(db, "provinsp", role=Role.INSPECTOR, scope="region:510000", now=clock())
    console_sign_in(anon, "cityboss")
    page = anon.get(USERS)
    assert page.status_code == 200
    rows = dict(re.findall(r'data-username="([^"]+)"( class="row-due")?', page.text))
    assert set(rows) == {"cityboss", "countyinsp", "countytech"}  # the province's inspector is above me
    assert rows["countyinsp"] and not rows["countytech"]  # 200 days unconfirmed: due for review
    assert "待复核" in page.text and "电子监察员" in page.text and "系统管理员" in page.text
    assert "大厅 510104-ZWFW" in page.text and "地区 510104" in page.text
    assert "本人（不能自我确认）" in page.text
    # the role select offers only what a city supervisor may grant: everything (it holds every right)
    assert 'value="inspector"' in page.text and 'value="post_user"' in page.text
    # scope suggestions stay inside my jurisdiction
    suggested = re.findall(r'<option value="((?:region|hall|department):[^"]+)"', page.text)
    assert suggested == ["region:510100", "region:510104", "hall:510104-ZWFW"]
    # a made-up link claims nothing
    assert "已创建" not in anon.get(f"{USERS}?created=ghost").text


def test_a_sysadmin_is_offered_only_the_roles_it_may_grant(anon: TestClient, db, clock, registry) -> None:
    make_user(db, "tech", role=Role.SYSADMIN, scope="*", now=clock())
    page = console_sign_in(anon, "tech").get(USERS).text
    select_html = page[page.index('name="role"') : page.index("</select>")]
    # post users answer signals (signals.respond), a right a technician does not hold (SC-16/17)
    assert re.findall(r'<option value="(\w+)"', select_html) == ["sysadmin"]


def test_confirming_rights_restarts_the_review(
    root: TestClient, db, clock: FakeClock, session: Session
) -> None:
    make_user(db, "alice", role=Role.INSPECTOR, scope="region:510104", now=clock() - timedelta(days=120))
    assert 'data-username="alice" class="row-due"' in root.get(USERS).text
    r = root.post(f"{USERS}/alice/confirm", data={"csrf_token": form_token(root)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{USERS}?confirmed=alice"
    page = root.get(r.headers["location"])
    assert "已确认“alice”的权限" in page.text
    assert 'data-username="alice" class="row-due"' not in page.text
    assert "user.confirmed" in audit_actions(session)


def test_nobody_confirms_their_own_rights_and_strangers_are_not_found(root: TestClient, db, clock) -> None:
    token = form_token(root)
    mine = root.post(f"{USERS}/root/confirm", data={"csrf_token": token})
    assert mine.status_code == 403 and "不能确认自己的权限" in mine.text
    make_user(db, "cityboss", role=Role.SYSTEM_SUPERVISOR, scope="region:510100", now=clock())
    make_user(db, "provinsp", role=Role.INSPECTOR, scope="region:510000", now=clock())
    city = console_sign_in(TestClient(root.app), "cityboss")
    city_token = form_token(city)
    for stranger in ("provinsp", "nobody"):  # above my jurisdiction, or missing: the same answer
        r = city.post(f"{USERS}/{stranger}/confirm", data={"csrf_token": city_token})
        assert r.status_code == 404 and f"您的辖区内没有用户“{stranger}”" in r.text


# -- creating users (SC-14) --------------------------------------------------------------------


def test_creating_a_user_through_the_form(root: TestClient, session: Session) -> None:
    r = root.post(USERS, data={**new_user(), "csrf_token": form_token(root)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{USERS}?created=alice"
    page = root.get(r.headers["location"]).text
    assert "已创建用户“alice”" in page and 'data-username="alice"' in page and "王丽" in page
    alice = session.scalar(select(User).where(User.username == "alice"))
    assert alice is not None and alice.role == "inspector" and alice.granted_by is not None
    assert alice.granted_by.username == "root"
    assert "user.created" in audit_actions(session)
    # the new person signs in with the password they were given
    assert (
        root.post("/api/v1/auth/token", data={"username": "alice", "password": PASSWORD}).status_code == 200
    )


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"password": "short"}, 400, "密码太短：至少需要 10 个字符"),
        ({"password": "alice-is-my-password"}, 400, "密码不能包含用户名"),
        ({"username": "a b"}, 400, "用户名须为 3–64 位字母"),
        ({"scope": "region:999999"}, 400, "辖区“region:999999”无效"),
        ({"scope": "SCJGJX"}, 400, "辖区“SCJGJX”无效"),
        ({"role": "post_user", "scope": "region:510104"}, 400, "岗位用户只能授予到一个部门"),
        ({"role": "overlord"}, 400, "没有“overlord”这个角色"),
        ({"username": ""}, 400, "请填写用户名"),
        ({"scope": ""}, 400, "请填写辖区"),
        ({"display_name": "长" * 61}, 400, "姓名最多 60 个字符"),
    ],
)
def test_form_errors_are_shown_in_chinese_with_the_fields_kept(
    root: TestClient, session: Session, changes: dict[str, str], status: int, message: str
) -> None:
    form = new_user(**changes)
    r = root.post(USERS, data={**form, "csrf_token": form_token(root)})
    assert r.status_code == status, r.text
    assert message in r.text and 'aria-invalid="true"' in r.text
    if form["username"]:
        assert f'value="{form["username"]}"' in r.text
    if form["scope"]:
        assert f'value="{form["scope"]}"' in r.text
    assert f'value="{form["password"]}"' not in r.text  # never echoed back
    assert users_in(session) == {"root"}


def test_a_duplicate_username_is_refused_on_the_form(root: TestClient, session: Session) -> None:
    token = form_token(root)
    assert (
        root.post(USERS, data={**new_user(), "csrf_token": token}, follow_redirects=False).status_code == 303
    )
    again = root.post(USERS, data={**new_user(role="sysadmin"), "csrf_token": token})
    assert again.status_code == 400 and "用户名“alice”已被使用" in again.text
    assert 'value="sysadmin" selected' in again.text


def test_grants_beyond_my_rights_or_jurisdiction_are_refused_and_recorded(
    anon: TestClient, db, clock, registry, session: Session
) -> None:
    make_user(db, "citytech", role=Role.SYSADMIN, scope="region:510100", now=clock())
    console_sign_in(anon, "citytech")
    token = form_token(anon)
    role = anon.post(USERS, data={**new_user(role="inspector"), "csrf_token": token})
    assert role.status_code == 403 and "您的角色（系统管理员）无权授予“电子监察员”" in role.text
    upward = anon.post(USERS, data={**new_user(role="sysadmin", scope="region:510000"), "csrf_token": token})
    assert upward.status_code == 403
    assert "辖区“region:510000”不在您的辖区（510100）之内" in upward.text
    assert users_in(session) == {"citytech"}
    assert audit_actions(session).count("user.grant_refused") == 2


def test_forms_without_this_sessions_token_are_refused(root: TestClient, db, clock, session) -> None:
    assert root.post(USERS, data=new_user()).status_code == 403
    make_user(db, "other", now=clock())
    other_token = form_token(console_sign_in(TestClient(root.app), "other"))
    r = root.post(USERS, data={**new_user(), "csrf_token": other_token})
    assert r.status_code == 403 and "表单校验失败" in r.text
    assert users_in(session) == {"root", "other"}


# -- device keys -------------------------------------------------------------------------------


@pytest.fixture
def devices(registry, session: Session) -> None:
    session.add(Device(code="EDGE-P", kind="edge", name="省中心边缘盒", hall_id=registry["hall"]))
    session.add(Device(code="EDGE-K", kind="keypad", name="锦江区评价器", hall_id=registry["county_hall"]))
    session.commit()


def issued_key(page_text: str) -> str:
    found = re.search(r'value="(hwk_[0-9a-f]{16}_[A-Za-z0-9_\-]{43})"', page_text)
    assert found, "no key on the page"
    return found.group(1)


def device_me(client: TestClient, key: str) -> int:
    return int(client.get("/api/v1/device/me", headers={"X-Device-Key": key}).status_code)


def test_a_key_is_shown_once_and_authenticates_the_device(root: TestClient, devices, session) -> None:
    listing = root.get(DEVICES).text
    assert "省中心边缘盒" in listing and "锦江区评价器" in listing and "评价器" in listing
    r = root.post(f"{DEVICES}/EDGE-P/keys", data={"csrf_token": form_token(root, DEVICES)})
    assert r.status_code == 200 and "此密钥只显示这一次" in r.text
    assert r.headers["cache-control"] == "no-store"
    key = issued_key(r.text)
    assert device_me(TestClient(root.app), key) == 200
    after = root.get(DEVICES).text
    _prefix, key_id, secret = key.split("_", 2)  # the secret itself may contain "_"
    assert key not in after and secret not in after  # never shown again
    assert f"hwk_{key_id}_…" in after and "root" in after
    assert "device_key.issued" in audit_actions(session)


def test_rotating_and_revoking_refuse_the_old_key_at_once(root: TestClient, devices, session) -> None:
    device = TestClient(root.app)
    token = form_token(root, DEVICES)
    first = issued_key(root.post(f"{DEVICES}/EDGE-P/keys", data={"csrf_token": token}).text)
    rotated = root.post(f"{DEVICES}/EDGE-P/keys/rotate", data={"csrf_token": token})
    assert rotated.status_code == 200 and "原有的全部密钥已吊销" in rotated.text
    second = issued_key(rotated.text)
    assert device_me(device, first) == 401 and device_me(device, second) == 200
    key_id = second.split("_")[1]
    revoke = f"{DEVICES}/EDGE-P/keys/{key_id}/revoke"
    r = root.post(revoke, data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(f"{DEVICES}?revoked={key_id}")
    assert device_me(device, second) == 401
    assert f"已吊销密钥 {key_id}" in root.get(r.headers["location"]).text
    again = root.post(revoke, data={"csrf_token": token})
    assert again.status_code == 404 and "没有未吊销的密钥" in again.text
    session.expire_all()
    assert all(k.revoked_at is not None for k in session.scalars(select(DeviceKey)))
    actions = audit_actions(session)
    assert actions.count("device_key.revoked") == 2 and "device_key.rotated" in actions


def test_devices_outside_my_jurisdiction_are_not_found(anon: TestClient, db, clock, devices, session) -> None:
    make_user(db, "countytech", role=Role.SYSADMIN, scope="region:510104", now=clock())
    console_sign_in(anon, "countytech")
    listing = anon.get(DEVICES).text
    assert "锦江区评价器" in listing and "省中心边缘盒" not in listing
    token = form_token(anon, DEVICES)
    for path in ("/EDGE-P/keys", "/EDGE-P/keys/rotate", "/NOPE/keys"):
        r = anon.post(f"{DEVICES}{path}", data={"csrf_token": token})
        assert r.status_code == 404 and "您的辖区内没有编号为" in r.text
    assert anon.post(f"{DEVICES}/EDGE-K/keys", data={"csrf_token": "f" * 64}).status_code == 403
    session.expire_all()
    assert session.scalars(select(DeviceKey)).first() is None


def test_an_edge_box_s_outbox_disk_is_shown_as_it_last_reported_it(
    root: TestClient, devices, session: Session, clock: FakeClock
) -> None:
    r = root.post(f"{DEVICES}/EDGE-P/keys", data={"csrf_token": form_token(root, DEVICES)})
    key = issued_key(r.text)
    assert 'data-outbox="' not in root.get(DEVICES).text, "nothing reported yet, nothing shown"
    since = (clock() - timedelta(minutes=30)).timestamp()
    report = {
        "state": "full",
        "since": since,
        "free_bytes": 0,
        "refused": 4,
        "refused_by_kind": {"keypad_press": 4},
    }
    time = TestClient(root.app).get(
        "/api/v1/device/time", headers={"X-Device-Key": key, "X-Device-Outbox": json.dumps(report)}
    )
    assert time.status_code == 200, time.text
    listing = root.get(DEVICES).text
    assert 'data-outbox="full"' in listing
    assert "发件箱磁盘已满，拒收新观测（自 2026-11-27 09:30，已拒收 4 条）" in listing


# -- in a real browser -------------------------------------------------------------------------


@pytest.mark.browser
def test_a_supervisor_creates_a_user_in_the_browser(db, settings, clock, registry) -> None:
    make_user(db, "root", now=clock())
    with (
        serve(create_app(settings, engine=db, clock=clock)) as url,
        chromium() as browser,
        local_page(browser, url) as tab,
    ):
        tab.goto(f"{url}{USERS}")
        assert "/console/login" in tab.url
        sign_in(tab, url, "root", PASSWORD, navigate=False)
        expect(tab.get_by_role("heading", name="权限复核")).to_be_visible()
        form = tab.locator("form.admin-form")
        form.get_by_label("用户名").fill("bob.li")
        form.get_by_label("姓名").fill("李波")
        form.get_by_label("初始密码").fill(PASSWORD)
        form.get_by_label("角色").select_option(label="电子监察员")
        form.get_by_label("辖区").fill("hall:510104-ZWFW")
        form.get_by_role("button", name="创建用户").click()
        expect(tab.get_by_role("status")).to_contain_text("已创建用户“bob.li”")
        row = tab.locator('tr[data-username="bob.li"]')
        expect(row).to_contain_text("李波")
        expect(row).to_contain_text("电子监察员")
        expect(row).to_contain_text("大厅 510104-ZWFW")
        expect(row).to_contain_text("root")
