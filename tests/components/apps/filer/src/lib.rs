//! `filer`: the `files` capability of `qun:app@0.2.0` (see README.md).

wit_bindgen::generate!({
    path: "../../../../wit/0.2.0",
    world: "group-app",
});

use exports::qun::app::handler::{
    ActionAnswer, ActionCall, AppInfo, Command, CommandSpec, Context, Error, Event, Guest,
    Submission, Subscription,
};
use qun::app::blocks::{Block, FileInput, Form, Image, Input, InputKind, Message, Response, Value};
use qun::app::{files, storage};

struct Filer;

fn text(s: impl Into<String>) -> Response {
    Response::Post(Message {
        text: s.into(),
        blocks: Vec::new(),
    })
}

fn showing(title: &str, block: Block) -> Message {
    Message {
        text: String::new(),
        blocks: vec![Block::Header(title.to_string()), block],
    }
}

/// Create a file of `size` bytes, appended in pieces of at most 1 MiB.
fn make(name: &str, size: usize) -> Result<files::FileInfo, Error> {
    let upload = files::create(name)?;
    let pattern = b"0123456789";
    let mut left = size;
    while left > 0 {
        let n = left.min(1 << 20);
        let piece: Vec<u8> = pattern.iter().copied().cycle().take(n).collect();
        files::append(upload, &piece)?;
        left -= n;
    }
    files::finish(upload)
}

fn code(e: &Error) -> String {
    match e {
        Error::Denied(m) => format!("denied: {m}"),
        Error::NotFound(m) => format!("not-found: {m}"),
        Error::Invalid(m) => format!("invalid: {m}"),
        Error::QuotaExceeded(m) => format!("quota-exceeded: {m}"),
        Error::Conflict(m) => format!("conflict: {m}"),
        Error::Internal(m) => format!("internal: {m}"),
    }
}

/// A 1×1 transparent PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x60, 0x00, 0x02, 0x00,
    0x00, 0x05, 0x00, 0x01, 0xE9, 0xFA, 0xDC, 0xD8, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44,
    0xAE, 0x42, 0x60, 0x82,
];

impl Guest for Filer {
    fn describe() -> AppInfo {
        let command = |name: &str| CommandSpec {
            name: name.into(),
            description: format!("{name} (see README.md)"),
            options: Vec::new(),
        };
        AppInfo {
            name: "filer".into(),
            title: "Filer".into(),
            version: "0.1.0".into(),
            description: "Exercises the files capability.".into(),
            commands: [
                "mkfile", "mkpng", "mktrap", "mkbig", "readback", "rm", "show", "handin",
            ]
            .iter()
            .map(|n| command(n))
            .collect(),
            actions: Vec::new(),
            subscriptions: vec![Subscription::MessagePosted],
        }
    }

    fn on_command(_ctx: Context, command: Command) -> Result<Response, Error> {
        let args: Vec<&str> = command.args.split_whitespace().collect();
        let arg = |i: usize| args.get(i).copied().unwrap_or_default();
        match command.name.as_str() {
            "mkfile" => {
                let size: usize = arg(1).parse().unwrap_or(10);
                let info = make(arg(0), size)?;
                qun::app::messaging::post(&showing("A file", Block::File(info.id.clone())))?;
                Ok(text(format!("made {} {}", info.id, info.sha256)))
            }
            "mkpng" => {
                let upload = files::create("dot.png")?;
                files::append(upload, PNG)?;
                let info = files::finish(upload)?;
                qun::app::messaging::post(&showing(
                    "An image",
                    Block::Image(Image {
                        file: info.id.clone(),
                        alt: "a dot".into(),
                    }),
                ))?;
                Ok(text(format!("made {} {}", info.id, info.content_type)))
            }
            "mktrap" => {
                let info = make("doomed.txt", 1000)?;
                storage::set("doomed", info.id.as_bytes())?;
                panic!("trapping after creating {}", info.id);
            }
            "mkbig" => {
                let size: usize = arg(0).parse().unwrap_or(1 << 20);
                match make("big.bin", size) {
                    Ok(info) => Ok(text(format!("made {}", info.id))),
                    Err(e) => Ok(text(code(&e))),
                }
            }
            "readback" => match files::stat(arg(0)) {
                Ok(info) => {
                    let head = files::read(arg(0), 0, 16)?;
                    Ok(text(format!(
                        "{} {} {}",
                        info.size,
                        info.sha256,
                        String::from_utf8_lossy(&head)
                            .chars()
                            .map(|c| if c.is_control() { '.' } else { c })
                            .collect::<String>()
                    )))
                }
                Err(e) => Ok(text(code(&e))),
            },
            "rm" => Ok(text(format!("{:?}", files::delete(arg(0))))),
            "show" => {
                match qun::app::messaging::post(&showing("Shown", Block::File(arg(0).into()))) {
                    Ok(id) => Ok(text(format!("posted {id}"))),
                    Err(e) => Ok(text(code(&e))),
                }
            }
            "handin" => Ok(Response::Form(Form {
                title: "Hand in".into(),
                blocks: vec![Block::Input(Input {
                    id: "work".into(),
                    label: "Your work".into(),
                    hint: None,
                    required: true,
                    kind: InputKind::File(FileInput {
                        max_files: 3,
                        accept: vec!["image/".into(), "text/plain".into()],
                    }),
                })],
                submit_label: "Hand in".into(),
                callback: "handin".into(),
                state: String::new(),
            })),
            other => Err(Error::Invalid(format!("unknown command {other}"))),
        }
    }

    fn on_action(_ctx: Context, _call: ActionCall) -> Result<ActionAnswer, Error> {
        Err(Error::Invalid("no actions".into()))
    }

    fn on_submit(_ctx: Context, submission: Submission) -> Result<Response, Error> {
        let mut lines = Vec::new();
        let mut blocks = Vec::new();
        for value in &submission.values {
            if let Value::Files(ids) = &value.value {
                for id in ids {
                    let info = files::stat(id)?;
                    let mut size = 0;
                    loop {
                        let piece = files::read(id, size as u64, 1 << 20)?;
                        if piece.is_empty() {
                            break;
                        }
                        size += piece.len();
                    }
                    lines.push(format!("{}={size}", info.name));
                    blocks.push(Block::File(id.clone()));
                }
            }
        }
        blocks.insert(
            0,
            Block::Text(format!("got {}: {}", lines.len(), lines.join(" "))),
        );
        Ok(Response::Private(Message {
            text: String::new(),
            blocks,
        }))
    }

    fn on_event(_ctx: Context, event: Event) -> Result<(), Error> {
        if let Event::MessagePosted(m) = event {
            for id in &m.files {
                if let Ok(info) = files::stat(id) {
                    storage::set(&format!("seen:{id}"), info.size.to_string().as_bytes())?;
                }
            }
        }
        Ok(())
    }
}

export!(Filer);
