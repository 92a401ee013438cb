"""Capability `membership`: read the current group and its members.

A member has `id`, `display_name`, `role` (`qun.membership.Role.OWNER`,
`ADMIN`, `MEMBER`), `joined_at` and `profile` (`avatar_url`, `locale`,
`time_zone`). Members of other groups are never visible.
"""

from typing import List, Optional

from . import _host
from ._wit import capability as _cap, types as _types

__all__ = ["current_group", "member", "members", "all_members", "actor_name", "is_admin", "Role", "MAX_PAGE"]

Role = _types.Role
MAX_PAGE = 100
_cap("membership")  # the bindings, imported while the component is built


def current_group():
    """The group (`id`, `name`, `owner`, `member_count`, `time_zone`, `locale`)."""
    return _host.call("membership", "current_group")


def member(id: str):
    """A member of this group; `NotFound` for anyone else."""
    return _host.call("membership", "get_member", id)


def members(cursor: Optional[str] = None, limit: int = MAX_PAGE):
    """One page (`.members`, `.next_cursor`), ordered by id, at most 100."""
    return _host.call("membership", "list_members", cursor, limit)


def all_members() -> List:
    """Every member, following cursors."""
    out, cursor = [], None
    while True:
        page = members(cursor, MAX_PAGE)
        out.extend(page.members)
        if page.next_cursor is None:
            return out
        cursor = page.next_cursor


def actor_name(ctx) -> str:
    """The display name of the member who acted (`Invalid` when none did)."""
    return member(ctx.require_actor()).display_name


def is_admin(m) -> bool:
    """True for the group's owner and admins."""
    return m.role in (Role.OWNER, Role.ADMIN)
