//! A group's time zone and language, and a member's profile card, through
//! the HTTP API on both backends: who may change them, what is refused, and
//! where they show (issue 13 items 7 and 8).

mod server_common;

use axum::http::{Method, StatusCode};
use qun_host::AppState;
use qun_host::http::HttpConfig;
use qun_host::store::Role;
use qun_tests::{Backend, World, backend_tests, unique};
use serde_json::{Value, json};
use server_common::{call, code};

backend_tests!(
    managers_set_the_group_time_zone_and_language,
    members_and_strangers_cannot_change_a_group,
    bad_group_settings_are_refused_and_change_nothing,
    a_member_sets_and_clears_their_profile_card,
    bad_profile_values_are_refused_and_change_nothing,
);

struct Site {
    w: World,
    app: axum::Router,
    gid: String,
    /// Tokens of the owner, an admin, a member and a user outside the group.
    owner: String,
    admin: String,
    member: String,
    outsider: String,
    member_id: String,
}

impl Site {
    async fn new(backend: Backend) -> Option<Site> {
        let w = World::new(backend).await?;
        let app = qun_host::app(AppState::new(w.runtime.clone(), HttpConfig::default()));
        let mut tokens = Vec::new();
        let mut ids = Vec::new();
        for name in ["owner", "admin", "member", "outsider"] {
            let token = unique("token");
            let user = w
                .store()
                .create_user(&unique(name), &token, false, false)
                .await
                .expect("user");
            tokens.push(token);
            ids.push(user.id);
        }
        let group = w
            .store()
            .create_group(&unique("group"), &ids[0])
            .await
            .expect("group");
        for (id, role) in [(&ids[1], Role::Admin), (&ids[2], Role::Member)] {
            w.store()
                .add_member(&group.id, id, role)
                .await
                .expect("member");
        }
        let [owner, admin, member, outsider] = <[String; 4]>::try_from(tokens).expect("four");
        Some(Site {
            w,
            app,
            gid: group.id,
            owner,
            admin,
            member,
            outsider,
            member_id: ids[2].clone(),
        })
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
        call(&self.app, method, path, Some(token), body).await
    }

    async fn patch_group(&self, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(
            Method::PATCH,
            &format!("/v1/groups/{}", self.gid),
            token,
            Some(body),
        )
        .await
    }

    async fn group(&self) -> Value {
        let (status, body) = self
            .call(
                Method::GET,
                &format!("/v1/groups/{}", self.gid),
                &self.member,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

async fn managers_set_the_group_time_zone_and_language(backend: Backend) {
    let Some(site) = Site::new(backend).await else {
        return;
    };
    let group = site.group().await;
    assert_eq!(group["time_zone"], "UTC");
    assert_eq!(group["locale"], "en");

    let (status, body) = site
        .patch_group(
            &site.owner,
            json!({"time_zone": "Asia/Shanghai", "locale": "zh-cn"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["time_zone"], "Asia/Shanghai");
    assert_eq!(body["locale"], "zh-CN");

    // An admin changes one setting; the other stays.
    let (status, body) = site
        .patch_group(&site.admin, json!({"time_zone": "Europe/Berlin"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let group = site.group().await;
    assert_eq!(group["time_zone"], "Europe/Berlin");
    assert_eq!(group["locale"], "zh-CN");

    // Members see it in their list of groups too.
    let (_, me) = site.call(Method::GET, "/v1/me", &site.member, None).await;
    let mine = me["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["id"] == site.gid.as_str())
        .cloned()
        .expect("the group");
    assert_eq!(mine["time_zone"], "Europe/Berlin");

    // And the store hands it to the runtime.
    let stored = site
        .w
        .store()
        .group(&site.gid)
        .await
        .expect("read")
        .expect("group");
    assert_eq!(stored.time_zone, "Europe/Berlin");
    assert_eq!(stored.locale, "zh-CN");

    let (status, body) = site
        .patch_group(&site.owner, json!({"name": "hikers"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(site.group().await["name"], "hikers");
}

async fn members_and_strangers_cannot_change_a_group(backend: Backend) {
    let Some(site) = Site::new(backend).await else {
        return;
    };
    let change = json!({"time_zone": "Asia/Tokyo"});
    let (status, body) = site.patch_group(&site.member, change.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = site.patch_group(&site.outsider, change.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = call(
        &site.app,
        Method::PATCH,
        &format!("/v1/groups/{}", site.gid),
        None,
        Some(("application/json", change.to_string().into_bytes())),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The owner of another group cannot reach this one either.
    let (status, _) = site
        .call(
            Method::PATCH,
            "/v1/groups/g_nonexistent",
            &site.owner,
            Some(change),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(site.group().await["time_zone"], "UTC");
}

async fn bad_group_settings_are_refused_and_change_nothing(backend: Backend) {
    let Some(site) = Site::new(backend).await else {
        return;
    };
    for (body, want) in [
        (
            json!({"time_zone": "Mars/Olympus_Mons"}),
            "invalid_time_zone",
        ),
        (json!({"time_zone": "+08:00"}), "invalid_time_zone"),
        (
            json!({"time_zone": "Asia/Shanghai", "locale": "chinese"}),
            "invalid_locale",
        ),
        (json!({"locale": ""}), "invalid_locale"),
        // Names are free text ("Class 3"), but not blank or over 100 characters.
        (json!({"name": "   "}), "invalid_name"),
        (json!({"name": "x".repeat(101)}), "invalid_name"),
    ] {
        let (status, answer) = site.patch_group(&site.owner, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(code(&answer), want, "{body}: {answer}");
    }
    // A misspelt field is refused, not ignored.
    let (status, answer) = site
        .patch_group(&site.owner, json!({"timezone": "Asia/Tokyo"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let group = site.group().await;
    assert_eq!(group["time_zone"], "UTC");
    assert_eq!(group["locale"], "en");
}

async fn a_member_sets_and_clears_their_profile_card(backend: Backend) {
    let Some(site) = Site::new(backend).await else {
        return;
    };
    let (_, me) = site.call(Method::GET, "/v1/me", &site.member, None).await;
    assert_eq!(
        me["profile"],
        json!({"avatar_url": null, "locale": null, "time_zone": null})
    );

    let card = json!({
        "avatar_url": "https://cdn.example.com/me.png",
        "locale": "pt-br",
        "time_zone": "America/Sao_Paulo",
    });
    let (status, body) = site
        .call(Method::PATCH, "/v1/me/profile", &site.member, Some(card))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({
            "avatar_url": "https://cdn.example.com/me.png",
            "locale": "pt-BR",
            "time_zone": "America/Sao_Paulo",
        })
    );

    // Other members see the card in the member list.
    let (status, members) = site
        .call(
            Method::GET,
            &format!("/v1/groups/{}/members", site.gid),
            &site.owner,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{members}");
    let listed = members
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["user_id"] == site.member_id.as_str())
        .cloned()
        .expect("the member");
    assert_eq!(listed["profile"], body);

    // `null` clears one field; fields left out stay.
    let (status, body) = site
        .call(
            Method::PATCH,
            "/v1/me/profile",
            &site.member,
            Some(json!({"avatar_url": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"avatar_url": null, "locale": "pt-BR", "time_zone": "America/Sao_Paulo"})
    );
    let (_, me) = site.call(Method::GET, "/v1/me", &site.member, None).await;
    assert_eq!(me["profile"], body);

    // The store's member record (what apps are told) carries it.
    let member = site
        .w
        .store()
        .member(&site.gid, &site.member_id)
        .await
        .expect("read")
        .expect("member");
    assert_eq!(member.profile.avatar_url, None);
    assert_eq!(member.profile.locale.as_deref(), Some("pt-BR"));
    assert_eq!(
        member.profile.time_zone.as_deref(),
        Some("America/Sao_Paulo")
    );

    // Nobody else's card changed.
    let (_, owner) = site.call(Method::GET, "/v1/me", &site.owner, None).await;
    assert_eq!(
        owner["profile"],
        json!({"avatar_url": null, "locale": null, "time_zone": null})
    );
}

async fn bad_profile_values_are_refused_and_change_nothing(backend: Backend) {
    let Some(site) = Site::new(backend).await else {
        return;
    };
    let good = json!({"locale": "en-GB"});
    let (status, _) = site
        .call(Method::PATCH, "/v1/me/profile", &site.member, Some(good))
        .await;
    assert_eq!(status, StatusCode::OK);
    for (body, want) in [
        (
            json!({"avatar_url": "http://example.com/me.png"}),
            "invalid_avatar_url",
        ),
        (
            json!({"avatar_url": "javascript:alert(1)"}),
            "invalid_avatar_url",
        ),
        (
            json!({"avatar_url": "https://example.com/\"><script>"}),
            "invalid_avatar_url",
        ),
        (json!({"locale": "english please"}), "invalid_locale"),
        (
            json!({"time_zone": "Somewhere/Else", "locale": "fr"}),
            "invalid_time_zone",
        ),
    ] {
        let (status, answer) = site
            .call(
                Method::PATCH,
                "/v1/me/profile",
                &site.member,
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(code(&answer), want, "{body}: {answer}");
    }
    let (status, _) = site
        .call(
            Method::PATCH,
            "/v1/me/profile",
            &site.member,
            Some(json!({"avatar": "https://x.example/a.png"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(
        &site.app,
        Method::PATCH,
        "/v1/me/profile",
        None,
        Some(("application/json", b"{}".to_vec())),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, me) = site.call(Method::GET, "/v1/me", &site.member, None).await;
    assert_eq!(
        me["profile"],
        json!({"avatar_url": null, "locale": "en-GB", "time_zone": null})
    );
}
