//! `Authorization: Bearer <token>` → the calling [`User`], and the membership
//! checks every group route starts with.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use crate::store::{Member, Role, User};

/// The authenticated caller. Extracting it answers 401 without a valid token.
#[derive(Debug, Clone)]
pub struct Auth(pub User);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Auth, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            ApiError::Unauthorized("missing `Authorization: Bearer <token>` header".into())
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(bearer)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".into())
            })?;
        let user = state
            .store()
            .user_by_token(token)
            .await?
            .ok_or_else(|| ApiError::Unauthorized("unknown or revoked token".into()))?;
        if let Some(rate) = state.rate.as_deref() {
            rate.token(&user.id)?;
        }
        Ok(Auth(user))
    }
}

/// The token of a `Bearer <token>` header value; the scheme is
/// case-insensitive (RFC 9110 section 11.1).
fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl AppState {
    /// The caller's membership of `gid`; 404 when the group does not exist
    /// or the caller is not in it (the two are indistinguishable).
    pub async fn member_of(&self, gid: &str, user: &User) -> Result<Member, ApiError> {
        self.store()
            .member(gid, &user.id)
            .await?
            .ok_or_else(|| ApiError::no_group(gid))
    }

    /// Like [`AppState::member_of`], and 403 unless the caller is the group's
    /// owner or one of its admins.
    pub async fn manager_of(&self, gid: &str, user: &User) -> Result<Member, ApiError> {
        let member = self.member_of(gid, user).await?;
        match member.role {
            Role::Owner | Role::Admin => Ok(member),
            Role::Member => Err(ApiError::forbidden(
                "only the group's owner or admins may do this",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::bearer;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for header in ["Bearer t1", "bearer t1", "BEARER  t1", "BeArEr t1 "] {
            assert_eq!(bearer(header), Some("t1"), "{header}");
        }
        assert_eq!(bearer("Basic dTpw"), None);
        assert_eq!(bearer("Bearer"), None);
        assert_eq!(bearer("Bearert1"), None);
    }
}
