//! Assignments and submissions as stored, and the keys they live under.
//!
//! Keys: `next-id` (the assignment counter), `assignment/<id>`,
//! `submission/<id>/<member>` (one per member, so concurrent hand-ins never
//! write the same key; it holds the answer and the ids of the files handed in), `reminded/<id>/<24h|1h>` (a reminder already sent,
//! so a timer delivered twice reminds once).

use std::collections::BTreeMap;

use qun_sdk::prelude::*;
use serde::{Deserialize, Serialize};

/// An assignment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// Its id: "1", "2", ...
    pub id: String,
    /// The title.
    pub title: String,
    /// What to do; may be empty.
    pub instructions: String,
    /// When it is due (ms).
    pub due: i64,
    /// The teacher who set it.
    pub teacher: String,
    /// When it was set (ms).
    pub created_at: i64,
}

/// A teacher's grade.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grade {
    /// 0..=100.
    pub score: u8,
    /// Feedback for the student; may be empty.
    pub feedback: String,
    /// The teacher who graded.
    pub graded_by: String,
    /// When (ms).
    pub graded_at: i64,
}

/// One member's hand-in (the latest one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    /// The answer text.
    pub answer: String,
    /// When it was (last) handed in (ms).
    pub submitted_at: i64,
    /// Handed in after the due time.
    pub late: bool,
    /// How many times it was handed in.
    pub versions: u32,
    /// Set once graded; no resubmission after that.
    pub grade: Option<Grade>,
    /// The files handed in (photos or documents; the installation's own
    /// files once handed in). Hand-ins stored before files existed have none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<HandedFile>,
}

/// A file handed in: its id and what the host said about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandedFile {
    /// The file's id.
    pub id: String,
    /// Its name, as the student gave it.
    pub name: String,
    /// Its type, read by the host from the bytes.
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
}

impl HandedFile {
    /// An image a message can show (otherwise it is shown as a file to download).
    pub fn is_image(&self) -> bool {
        qun_sdk::files::IMAGE_TYPES.contains(&self.content_type.as_str())
    }

    /// The block that shows it: an image, or a file to download.
    pub(crate) fn show(&self, message: Message) -> Message {
        if self.is_image() {
            message.image(&self.id, &self.name)
        } else {
            message.file(&self.id)
        }
    }

    /// As the JSON answers list it.
    pub(crate) fn json(&self) -> Json {
        json!({"id": self.id, "name": self.name, "content_type": self.content_type, "size": self.size})
    }
}

impl Assignment {
    fn key(id: &str) -> String {
        format!("assignment/{id}")
    }

    /// The assignment `id`; `not-found` if there is none.
    pub(crate) fn load(id: &str) -> Result<Assignment> {
        storage::get_json(&Self::key(id))?
            .ok_or_else(|| Error::not_found(format!("no homework #{id} in this group")))
    }

    pub(crate) fn save(&self) -> Result<()> {
        storage::set_json(&Self::key(&self.id), self)
    }

    /// Takes the next id (see `storage::next_id`).
    pub(crate) fn next_id() -> Result<String> {
        storage::next_id("next-id")
    }

    pub(crate) fn due(&self) -> Timestamp {
        Timestamp::from_millis(self.due)
    }

    fn submission_prefix(&self) -> String {
        format!("submission/{}/", self.id)
    }

    fn submission_key(&self, member: &str) -> String {
        format!("{}{member}", self.submission_prefix())
    }

    /// `member`'s submission, if any.
    pub(crate) fn submission(&self, member: &str) -> Result<Option<Submission>> {
        storage::get_json(&self.submission_key(member))
    }

    pub(crate) fn save_submission(&self, member: &str, submission: &Submission) -> Result<()> {
        storage::set_json(&self.submission_key(member), submission)
    }

    /// Every submission by member id.
    pub(crate) fn submissions(&self) -> Result<BTreeMap<String, Submission>> {
        let prefix = self.submission_prefix();
        Ok(storage::list_json::<Submission>(&prefix)?
            .into_iter()
            .map(|(key, submission)| (key[prefix.len()..].to_owned(), submission))
            .collect())
    }
}

/// A teacher is the group's owner or one of its admins.
pub(crate) fn is_teacher(member: &Member) -> bool {
    member.is_admin()
}

/// `denied` unless the acting member is a teacher.
pub(crate) fn require_teacher(ctx: &Context, what: &str) -> Result<Member> {
    let member = ctx.actor_member()?;
    if !is_teacher(&member) {
        return Err(Error::denied(format!(
            "only the group's owner or an admin (the teacher) can {what}"
        )));
    }
    Ok(member)
}

/// Students: every member who is not a teacher, all pages, by id.
pub(crate) fn students() -> Result<Vec<Member>> {
    Ok(membership::all_members()?
        .into_iter()
        .filter(|m| !is_teacher(m))
        .collect())
}
