//! Implementation of the `qun:app/membership` interface.

use super::generated::qun::app::membership::{GroupInfo, Host, MemberPage};
use super::{Capability, Error, capability_call, internal, types};
use crate::runtime::InvocationState;
use crate::store::{Member, Role};

pub(crate) fn to_wit(member: Member) -> types::Member {
    types::Member {
        id: member.user_id,
        display_name: member.name,
        role: match member.role {
            Role::Owner => types::Role::Owner,
            Role::Admin => types::Role::Admin,
            Role::Member => types::Role::Member,
        },
        joined_at: member.joined_at,
        profile: types::Profile {
            avatar_url: member.profile.avatar_url,
            locale: member.profile.locale,
            time_zone: member.profile.time_zone,
        },
    }
}

impl InvocationState {
    pub(crate) async fn current_group_impl(&mut self) -> Result<GroupInfo, Error> {
        let group = self
            .db
            .group(&self.ident.group_id)
            .await
            .map_err(internal)?;
        let group = group.ok_or_else(|| Error::NotFound("this group no longer exists".into()))?;
        Ok(GroupInfo {
            id: group.id,
            name: group.name,
            owner: group.owner_id,
            member_count: u32::try_from(group.member_count).unwrap_or(u32::MAX),
            time_zone: group.time_zone,
            locale: group.locale,
        })
    }

    pub(crate) async fn get_member_impl(&mut self, id: String) -> Result<types::Member, Error> {
        self.check_size("member id", id.len(), self.limits.string_bytes)?;
        self.check_text("member id", &id)?;
        // Only members of *this* group are visible; anyone else is "not found".
        match self
            .db
            .member(&self.ident.group_id, &id)
            .await
            .map_err(internal)?
        {
            Some(member) => Ok(to_wit(member)),
            None => Err(Error::NotFound(format!(
                "{id} is not a member of this group"
            ))),
        }
    }

    pub(crate) async fn list_members_impl(
        &mut self,
        cursor: Option<String>,
        limit: u32,
    ) -> Result<MemberPage, Error> {
        let limit = limit.clamp(1, 100);
        let mut members = self
            .db
            .members(&self.ident.group_id, cursor.as_deref(), limit + 1)
            .await
            .map_err(internal)?;
        let more = members.len() > limit as usize;
        members.truncate(limit as usize);
        let next_cursor = if more {
            members.last().map(|m| m.user_id.clone())
        } else {
            None
        };
        Ok(MemberPage {
            members: members.into_iter().map(to_wit).collect(),
            next_cursor,
        })
    }
}

impl Host for InvocationState {
    async fn current_group(&mut self) -> Result<GroupInfo, Error> {
        capability_call!(
            self,
            Capability::Membership,
            "membership.current-group",
            self.current_group_impl()
        )
    }

    async fn get_member(&mut self, id: String) -> Result<types::Member, Error> {
        capability_call!(
            self,
            Capability::Membership,
            "membership.get-member",
            self.get_member_impl(id)
        )
    }

    async fn list_members(
        &mut self,
        cursor: Option<String>,
        limit: u32,
    ) -> Result<MemberPage, Error> {
        capability_call!(
            self,
            Capability::Membership,
            "membership.list-members",
            self.list_members_impl(cursor, limit)
        )
    }
}
