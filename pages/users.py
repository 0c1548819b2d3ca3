"""Users (administrators): list accounts, create one, change role, disable, reset, unlock."""

import pandas as pd
import streamlit as st

from models.tables import utc_now
from redflags.codes import Role
from redflags.labels import plain
from services.access import Permission
from services.installation import settings_in_force
from services.users import (
    MIN_PASSWORD_LENGTH,
    UserError,
    change_role,
    create_user,
    list_users,
    reset_password,
    set_active,
    unlock_user,
)
from ui import state

actor = state.require_login(Permission.MANAGE_USERS)
engine = state.engine()
ROLES = [role.value for role in Role]
ROLE_WORDS = {
    Role.ADMIN.value: "admin: users, audit log and everything clinical",
    Role.CLINICIAN.value: "clinician: all clinical work, import and export",
    Role.VIEWER.value: "viewer: reads the review and reports, changes nothing",
}
NOTICE = "users.notice"

st.title("Users")
st.caption(
    "Every change here is recorded in the audit log. The last active administrator can be "
    "neither disabled nor given another role."
)
notice = st.session_state.pop(NOTICE, None)
if notice:
    st.success(plain(notice))

now = utc_now()
accounts = list_users(engine=engine, actor=actor)
st.dataframe(
    pd.DataFrame(
        {
            "username": [a.username for a in accounts],
            "role": [a.role.value for a in accounts],
            "state": [
                "disabled" if not a.active else "locked" if a.locked(now) else "active"
                for a in accounts
            ],
            "failed_logins": [a.failed_logins for a in accounts],
            "created_utc": [a.created_at for a in accounts],
        }
    ),
    hide_index=True,
    column_config={
        "username": "Username",
        "role": "Role",
        "state": "State",
        "failed_logins": st.column_config.NumberColumn("Failed logins in a row"),
        "created_utc": st.column_config.DatetimeColumn("Created (UTC)", format="D MMM YYYY"),
    },
)


def _done(message: str) -> None:
    st.session_state[NOTICE] = message
    st.rerun()


TOGGLE_ERROR = "users.toggle_error"


def _set_active(username: str, active: bool) -> None:
    """Button callback: enable (``active``) or disable ``username``, as the button said."""
    who = state.callback_actor(Permission.MANAGE_USERS)
    if who is None:  # logged off or no longer an administrator: the page says so
        return
    try:
        set_active(engine=engine, actor=who, username=username, active=active)
    except UserError as error:
        st.session_state[TOGGLE_ERROR] = str(error)
    else:
        st.session_state[NOTICE] = f"{username} is {'enabled' if active else 'disabled'}."


st.subheader("Add a user", anchor=False)
NEW_NAME, NEW_ROLE, NEW_PASSWORD, NEW_REPEAT, NEW_ERROR = (
    "users.new_name",
    "users.new_role",
    "users.new_password",
    "users.new_repeat",
    "users.new_error",
)
NEW_USER_DEFAULTS = {NEW_NAME: "", NEW_ROLE: Role.CLINICIAN.value, NEW_PASSWORD: "", NEW_REPEAT: ""}
for field_key, default in NEW_USER_DEFAULTS.items():
    st.session_state.setdefault(field_key, default)


def _add_user() -> None:
    """Submit callback: it runs before the page, so it may still set the fields.

    A refused user keeps the name and role typed (only the passwords are typed
    again); the fields are emptied once the user is added. No
    ``clear_on_submit``: it would empty them on a refusal too.
    """
    who = state.callback_actor(Permission.MANAGE_USERS)
    if who is None:  # logged off or no longer an administrator: the page says so
        return
    values = st.session_state
    if values[NEW_PASSWORD] != values[NEW_REPEAT]:
        error = "The two passwords differ."
    else:
        try:
            created = create_user(
                engine=engine,
                actor=who,
                username=values[NEW_NAME],
                role=Role(values[NEW_ROLE]),
                password=values[NEW_PASSWORD],
            )
        except UserError as refused:
            error = str(refused)
        else:
            values.update(NEW_USER_DEFAULTS)
            values[NOTICE] = f"User {created.username} ({created.role}) added."
            return
    values[NEW_ERROR] = error
    values[NEW_PASSWORD] = values[NEW_REPEAT] = ""


with st.form("users.create"):
    st.text_input("Username", help="Letters, digits and _ . @ - (no spaces).", key=NEW_NAME)
    st.selectbox("Role", ROLES, format_func=ROLE_WORDS.__getitem__, key=NEW_ROLE)
    st.text_input(
        f"Password (at least {MIN_PASSWORD_LENGTH} characters)",
        type="password",
        autocomplete="new-password",
        key=NEW_PASSWORD,
    )
    st.text_input(
        "Repeat the password", type="password", autocomplete="new-password", key=NEW_REPEAT
    )
    refusal = st.session_state.pop(NEW_ERROR, None)
    if refusal:
        st.error(plain(refusal))
    st.form_submit_button("Add user", type="primary", on_click=_add_user)

st.subheader("Change a user", anchor=False)
chosen = st.selectbox(
    "User",
    [a.username for a in accounts],
    index=None,
    placeholder="Choose a user",
    key="users.chosen",
)
account = next((a for a in accounts if a.username == chosen), None)
if account is not None:
    st.markdown(
        f"**{plain(account.username)}** · {account.role.value} · "
        + ("disabled" if not account.active else "locked" if account.locked(now) else "active")
    )
    role_col, state_col = st.columns(2)
    with role_col.form("users.role"):
        role = st.selectbox(
            "Role",
            ROLES,
            index=ROLES.index(account.role.value),
            format_func=ROLE_WORDS.__getitem__,
        )
        if st.form_submit_button("Change role"):
            try:
                change_role(engine=engine, actor=actor, username=account.username, role=Role(role))
            except UserError as error:
                st.error(plain(str(error)))
            else:
                _done(f"{account.username} is now {role}.")
    with state_col:
        # What the button says is what its click does: the wish travels with the click
        # (not "the opposite of what the account is now"), so that a second admin's
        # "Disable" after the first one's cannot switch the account back on.
        verb = "Enable" if not account.active else "Disable"
        st.button(
            f"{verb} {plain(account.username)}",
            key="users.toggle",
            on_click=_set_active,
            args=(account.username, not account.active),
        )
        refused = st.session_state.pop(TOGGLE_ERROR, None)
        if refused:
            st.error(plain(refused))
        locked = account.locked(now) or account.failed_logins > 0
        if locked and st.button(f"Unlock {plain(account.username)}", key="users.unlock"):
            try:
                unlock_user(engine=engine, actor=actor, username=account.username)
            except UserError as error:
                st.error(plain(str(error)))
            else:
                _done(f"{account.username} is unlocked.")
    with st.form("users.reset", clear_on_submit=True):
        password = st.text_input(
            f"New password for {plain(account.username)} "
            f"(at least {MIN_PASSWORD_LENGTH} characters)",
            type="password",
            autocomplete="new-password",
        )
        again = st.text_input("Repeat it", type="password", autocomplete="new-password")
        if st.form_submit_button("Reset password"):
            if password != again:
                st.error("The two passwords differ.")
            else:
                try:
                    reset_password(
                        engine=engine, actor=actor, username=account.username, password=password
                    )
                except UserError as error:
                    st.error(plain(str(error)))
                else:
                    _done(f"The password of {account.username} is reset (and any lock lifted).")

st.subheader("Settings in force", anchor=False)
st.caption(
    "Read from the server's environment at start-up: change one there (README, "
    "Configuration) and restart the dashboard. The database is shown without its password."
)
st.dataframe(
    pd.DataFrame(
        [
            {
                "setting": item.setting,
                "value": item.value,
                "variable": item.variable,
                "source": "set" if item.set_here else "default",
            }
            for item in settings_in_force(engine=engine, actor=actor)
        ]
    ),
    hide_index=True,
    column_config={
        "setting": "Setting",
        "value": st.column_config.TextColumn("In force", width="large"),
        "variable": "Environment variable",
        "source": "Set or default",
    },
    key="users.settings",
)
