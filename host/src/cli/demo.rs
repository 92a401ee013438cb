//! `qun serve --demo`: seed a local demo (idempotent: a second run adds nothing).
//!
//! Users with fixed tokens (this is a local demo, not a deployment), a group
//! `demo` with an owner and two members, and every app component found in
//! the apps directory uploaded, approved and installed with all it asks for.

use std::path::Path;

use anyhow::Context;
use qun_host::store::{
    AppVersion, AuditRecord, InstallationChange, Role, User, VersionStatus, now_ms,
};
use qun_host::{Runtime, Store};

/// The seeded demo users: (name, token, admin, developer).
pub const USERS: [(&str, &str, bool, bool); 5] = [
    ("admin", "demo-admin-token", true, false),
    ("dev", "demo-dev-token", false, true),
    ("owner", "demo-owner-token", false, false),
    ("alice", "demo-alice-token", false, false),
    ("bob", "demo-bob-token", false, false),
];

/// What the seed produced.
pub struct Seeded {
    group_id: String,
    apps: Vec<String>,
    /// Demo users whose token is not the demo one (e.g. a bootstrap admin named `admin`).
    other_tokens: Vec<String>,
}

async fn user(
    store: &Store,
    (name, token, admin, developer): (&str, &str, bool, bool),
) -> anyhow::Result<User> {
    if let Some(user) = store.user_by_name(name).await? {
        return Ok(user);
    }
    Ok(store.create_user(name, token, admin, developer).await?)
}

/// Seed the demo.
pub async fn seed(runtime: &Runtime, apps_dir: &Path) -> anyhow::Result<Seeded> {
    let store = runtime.store();
    let mut users = Vec::new();
    let mut other_tokens = Vec::new();
    for spec in USERS {
        let seeded = user(store, spec)
            .await
            .with_context(|| format!("seeding user {}", spec.0))?;
        if store
            .user_by_token(spec.1)
            .await?
            .is_none_or(|u| u.id != seeded.id)
        {
            other_tokens.push(spec.0.to_string());
        }
        users.push(seeded);
    }
    let (admin, dev, owner) = (&users[0], &users[1], &users[2]);
    let group = match store
        .groups_of(&owner.id)
        .await?
        .into_iter()
        .find(|g| g.name == "demo" && g.owner_id == owner.id)
    {
        Some(group) => group,
        None => store.create_group("demo", &owner.id).await?,
    };
    for member in &users[3..] {
        if store.member(&group.id, &member.id).await?.is_none() {
            store
                .add_member(&group.id, &member.id, Role::Member)
                .await?;
        }
    }

    let mut files: Vec<_> = match std::fs::read_dir(apps_dir) {
        Ok(dir) => dir
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
            .collect(),
        Err(e) => {
            tracing::warn!(
                "no demo apps: cannot read {}: {e} (scripts/demo.sh builds them)",
                apps_dir.display()
            );
            Vec::new()
        }
    };
    files.sort();
    let mut apps = Vec::new();
    for file in files {
        match install(runtime, &group.id, [admin, dev, owner], &file).await {
            Ok(slug) => apps.push(slug),
            Err(e) => tracing::warn!("demo: skipping {}: {e:#}", file.display()),
        }
    }
    Ok(Seeded {
        group_id: group.id,
        apps,
        other_tokens,
    })
}

/// Upload (if new) and install (or upgrade) one component; returns its slug.
async fn install(
    runtime: &Runtime,
    group_id: &str,
    [admin, dev, owner]: [&User; 3],
    file: &Path,
) -> anyhow::Result<String> {
    let store = runtime.store();
    let bytes = std::fs::read(file)?;
    let app = runtime.load(&bytes).await?;
    let m = &app.manifest;
    if store.app(&m.name).await?.is_none() {
        store
            .create_app(&m.name, &m.title, &m.description, &dev.id)
            .await?;
    }
    let capabilities: Vec<String> = app
        .capabilities
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    if store.version(&m.name, &m.version).await?.is_none() {
        let version = AppVersion {
            app_slug: m.name.clone(),
            version: m.version.clone(),
            sha256: app.sha256.clone(),
            capabilities: capabilities.clone(),
            manifest: serde_json::to_value(m)?,
            status: VersionStatus::Pending,
            created_at: now_ms(),
            review_reason: None,
            reviewed_by: None,
            reviewed_at: None,
        };
        store.add_version(&version, &bytes).await?;
        // The demo's admin approves the first-party apps (audited like any review).
        store
            .review_version(
                &m.name,
                &m.version,
                VersionStatus::Approved,
                Some("first-party app approved by the demo seed"),
                &admin.id,
            )
            .await?;
    }
    match store.installation_of(group_id, &m.name).await? {
        None => {
            store
                .install(group_id, &m.name, &m.version, &capabilities, &owner.id)
                .await?;
        }
        Some(inst) if inst.version != m.version => {
            let change = InstallationChange {
                version: m.version.clone(),
                grants: capabilities.clone(),
                enabled: true,
                pending_version: None,
                disabled_reason: None,
                audit: vec![
                    AuditRecord::decision("installation.upgrade", &owner.id)
                        .app(&m.name, Some(&m.version))
                        .installation(&inst.id, group_id)
                        .detail(format!("from {} by the demo seed", inst.version)),
                ],
            };
            store
                .change_installation(&inst.id, &change, &owner.id)
                .await?;
        }
        Some(_) => {}
    }
    Ok(m.name.clone())
}

/// Print the tokens and three curl lines to try.
pub fn print(seeded: &Seeded, addr: &str) {
    let base = format!("http://{addr}/v1/groups/{}", seeded.group_id);
    println!();
    println!(
        "Demo seeded: group `demo` ({}) with apps: {}",
        seeded.group_id,
        if seeded.apps.is_empty() {
            "none found".to_string()
        } else {
            seeded.apps.join(", ")
        }
    );
    println!("Tokens (local demo only):");
    for (name, token, _, _) in USERS {
        if seeded.other_tokens.iter().any(|n| n == name) {
            println!("  {name:<6} (existed before the demo with another token)");
        } else {
            println!("  {name:<6} {token}");
        }
    }
    println!();
    println!("Try it (in another terminal):");
    println!("  # alice starts a poll; the card's buttons carry the poll id");
    println!(
        "  POLL=$(curl -s -H 'Authorization: Bearer demo-alice-token' -H 'Content-Type: application/json' \\\n      -d '{{\"text\":\"/poll Lunch? | noodles, dumplings, rice\"}}' {base}/messages | jq -r '.messages[1].card.buttons[0].payload.poll')"
    );
    println!("  # bob votes for dumplings");
    println!(
        "  curl -s -H 'Authorization: Bearer demo-bob-token' -H 'Content-Type: application/json' \\\n      -d \"{{\\\"poll\\\":\\\"$POLL\\\",\\\"choices\\\":[1]}}\" {base}/apps/polls/actions/vote"
    );
    println!("  # see the results");
    println!(
        "  curl -s -H 'Authorization: Bearer demo-owner-token' -H 'Content-Type: application/json' \\\n      -d \"{{\\\"poll\\\":\\\"$POLL\\\"}}\" {base}/apps/polls/actions/results"
    );
    println!(
        "  # watch the group live: curl -N -H 'Authorization: Bearer demo-owner-token' {base}/stream"
    );
    println!();
}

/// The demo users the web app's sign-in page offers (those that still have
/// their demo token).
pub fn web_users(seeded: &Seeded) -> Vec<qun_host::http::demo::DemoUser> {
    USERS
        .iter()
        .filter(|(name, ..)| !seeded.other_tokens.iter().any(|n| n == name))
        .map(|&(name, token, admin, developer)| {
            let role = if admin {
                "admin"
            } else if developer {
                "developer"
            } else if name == "owner" {
                "owner"
            } else {
                "member"
            };
            qun_host::http::demo::DemoUser {
                name: name.to_string(),
                display_name: name.to_string(),
                token: token.to_string(),
                roles: vec![role.to_string()],
            }
        })
        .collect()
}
