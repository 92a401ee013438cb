//! `qun:app/membership@0.1.0` onto 0.2 (no profile, no time zone).

use super::generated::qun::app::membership::{GroupInfo, Host, MemberPage};
use super::{error, types, wit_types};
use crate::capabilities::generated::qun::app::membership::Host as V2;
use crate::runtime::InvocationState;

impl Host for InvocationState {
    async fn current_group(&mut self) -> Result<GroupInfo, wit_types::Error> {
        let g = V2::current_group(self).await.map_err(error)?;
        Ok(GroupInfo {
            id: g.id,
            name: g.name,
            owner: g.owner,
            member_count: g.member_count,
        })
    }

    async fn get_member(&mut self, id: String) -> Result<wit_types::Member, wit_types::Error> {
        V2::get_member(self, id)
            .await
            .map(types::member)
            .map_err(error)
    }

    async fn list_members(
        &mut self,
        cursor: Option<String>,
        limit: u32,
    ) -> Result<MemberPage, wit_types::Error> {
        let page = V2::list_members(self, cursor, limit).await.map_err(error)?;
        Ok(MemberPage {
            members: page.members.into_iter().map(types::member).collect(),
            next_cursor: page.next_cursor,
        })
    }
}
