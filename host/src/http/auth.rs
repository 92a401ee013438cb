//! `Authorization: Bearer <token>` → the calling [`User`], and the membership
//! checks every group route starts with.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use axum::extract::MatchedPath;
use axum::http::Method;

use super::AppState;
use super::error::ApiError;
use crate::store::{Authenticated, Member, Role, TokenScope, User};

/// The authenticated caller. Extracting it answers 401 without a valid token
/// (`token_revoked`, `token_expired`, `user_disabled` when it no longer
/// works), and 403 `token_scope` when the token's scope does not cover the route.
#[derive(Debug, Clone)]
pub struct Auth(pub User);

/// What a `publish` token may do: upload versions of the user's apps and
/// read what that needs.
const PUBLISH_ROUTES: &[(Method, &str)] = &[
    (Method::POST, "/v1/apps/{slug}/versions"),
    (Method::GET, "/v1/apps/{slug}"),
    (Method::GET, "/v1/apps"),
    (Method::GET, "/v1/me"),
];

fn refused(code: &'static str, message: &str) -> ApiError {
    ApiError::TokenRefused {
        code,
        message: message.to_string(),
    }
}

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
        let (user, info) = match state.store().authenticate(token).await? {
            Authenticated::Ok(user, info) => (user, info),
            Authenticated::Unknown => {
                return Err(ApiError::Unauthorized("unknown token".into()));
            }
            Authenticated::Revoked => {
                return Err(refused("token_revoked", "this token was revoked"));
            }
            Authenticated::Expired => {
                return Err(refused("token_expired", "this token has expired"));
            }
            Authenticated::Disabled => {
                return Err(refused(
                    "user_disabled",
                    "this user is disabled by a platform admin",
                ));
            }
        };
        if let Some(rate) = state.rate.as_deref() {
            rate.token(&user.id)?;
        }
        if info.scope == TokenScope::Publish {
            let route = parts
                .extensions
                .get::<MatchedPath>()
                .map(MatchedPath::as_str);
            let allowed = PUBLISH_ROUTES
                .iter()
                .any(|(m, p)| *m == parts.method && Some(*p) == route);
            if !allowed {
                return Err(ApiError::Forbidden {
                    code: "token_scope",
                    message: "a `publish` token may only upload and read your apps' versions"
                        .into(),
                });
            }
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
