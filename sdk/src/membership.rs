//! Capability `membership`: read the current group and its members.

use crate::{Result, Timestamp, sys};

/// A member's role in the current group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Created the group; there is exactly one.
    Owner,
    /// Helps the owner run the group.
    Admin,
    /// Everyone else.
    Member,
}

/// One member of the current group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The member's id.
    pub id: String,
    /// The name shown in the group.
    pub display_name: String,
    /// The member's role here.
    pub role: Role,
    /// When the member joined this group.
    pub joined_at: Timestamp,
    /// What the member's profile card shows, where they set it.
    pub profile: Profile,
}

/// What a member's profile card shows, where the member set it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    /// An `https:` address of the member's picture.
    pub avatar_url: Option<String>,
    /// The member's language, a BCP 47 tag such as "zh-CN".
    pub locale: Option<String>,
    /// The member's IANA time zone, such as "Asia/Shanghai".
    pub time_zone: Option<String>,
}

impl Member {
    /// True for the group's owner and its admins.
    pub fn is_admin(&self) -> bool {
        matches!(self.role, Role::Owner | Role::Admin)
    }
}

/// The current group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// The group's id.
    pub id: String,
    /// The group's name.
    pub name: String,
    /// The member who owns it.
    pub owner: String,
    /// How many members it has.
    pub member_count: u32,
    /// The group's IANA time zone ("UTC" unless the owner set one).
    pub time_zone: String,
    /// The group's language, a BCP 47 tag.
    pub locale: String,
}

/// One page of members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberPage {
    /// Members ordered by id.
    pub members: Vec<Member>,
    /// Pass to [`members`] for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// The group this invocation runs in.
pub fn current_group() -> Result<Group> {
    sys::membership::current_group()
}

/// One member of the current group; `not-found` if `id` is not a member here.
pub fn member(id: &str) -> Result<Member> {
    sys::membership::get_member(id)
}

/// One page of members: `limit` (at most 100) after `cursor`.
pub fn members(cursor: Option<&str>, limit: u32) -> Result<MemberPage> {
    sys::membership::list_members(cursor, limit)
}

/// Every member of the group, following the pages.
pub fn all_members() -> Result<Vec<Member>> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = members(cursor.as_deref(), 100)?;
        all.extend(page.members);
        match page.next_cursor {
            Some(next) if Some(&next) != cursor.as_ref() => cursor = Some(next),
            _ => return Ok(all),
        }
    }
}
