//! The worked example of `sdk/README.md`: a signup sheet with a typed
//! command, a live card, a form and private replies, and its harness test.
//! `cargo run --example signup` runs the test.

use qun_sdk::prelude::*;
use serde::{Deserialize, Serialize};

pub struct Signup;

#[derive(Serialize, Deserialize)]
struct Sheet {
    title: String,
    slots: u32,
    card: Option<MessageId>,
}

#[derive(Serialize, Deserialize)]
struct SheetRef {
    sheet: String,
}

impl App for Signup {
    fn describe() -> Describe {
        Describe::new("signup", "Signup sheets")
            .version(env!("CARGO_PKG_VERSION"))
            .command_with(
                Describe::spec("sheet", "Start a signup sheet: /sheet Title | slots")
                    .option(
                        Input::text("title", "What people sign up for")
                            .required()
                            .max_length(100),
                    )
                    .option(
                        Input::integer("slots", "How many places")
                            .required()
                            .range(1, 50),
                    ),
            )
            .action("join", "Sign up (opens a short form)")
            .action("mine", "Your own signup, privately")
    }

    fn on_command(ctx: &Context, cmd: &Command) -> Result<Reply> {
        // The host parsed and checked the options (a wrong `slots` never gets
        // here), or opened the command's form when one was missing.
        let title: String = cmd.option("title")?;
        let slots: u32 = cmd.option("slots")?;
        let id = storage::next_id("next")?;
        let mut sheet = Sheet {
            title,
            slots,
            card: None,
        };
        // Posting the card ourselves gives its id, so it can be updated later.
        sheet.card = Some(messaging::post(&card(ctx, &id, &sheet, 0)?)?);
        storage::set_json(&format!("sheet/{id}"), &sheet)?;
        Ok(Reply::none())
    }

    fn on_action(ctx: &Context, call: &ActionCall) -> Result<ActionAnswer> {
        let SheetRef { sheet } = call.payload()?; // errors name the field
        let me = format!("who/{sheet}/{}", ctx.actor()?);
        match call.name.as_str() {
            "join" => Ok(Form::new("Sign up", "join")
                .input(Input::text("note", "A note for the organiser").max_length(200))
                .input(Input::checkbox("food", "I'll bring food"))
                .submit_label("Sign up")
                .state(&SheetRef { sheet })?
                .into()),
            "mine" => {
                let text = match storage::get_json::<String>(&me)? {
                    Some(note) => format!("You are signed up ({note})."),
                    None => "You have not signed up.".to_owned(),
                };
                Ok(Reply::private(Message::new(text)).into())
            }
            other => Err(Error::invalid(format!("unknown action {other}"))),
        }
    }

    fn on_submit(ctx: &Context, submission: &Submission) -> Result<Reply> {
        let SheetRef { sheet: id } = submission.state()?;
        let sheet: Sheet = storage::get_json(&format!("sheet/{id}"))?
            .ok_or_else(|| Error::not_found("no such sheet"))?;
        let taken = storage::list_all(&format!("who/{id}/"))?.len() as u32;
        if taken >= sheet.slots {
            return Ok(Reply::field_error("note", "sorry, the sheet is full"));
        }
        let note: Option<String> = submission.value("note")?;
        let food: bool = submission.value("food")?;
        let note = format!(
            "{}{}",
            note.unwrap_or_default(),
            if food { " +food" } else { "" }
        );
        storage::set_json(&format!("who/{id}/{}", ctx.actor()?), &note)?;
        if let Some(card_id) = &sheet.card {
            messaging::update(card_id, &card(ctx, &id, &sheet, taken + 1)?)?;
        }
        Ok(Reply::private(Message::new(format!(
            "You are in: {}",
            sheet.title
        ))))
    }
}

fn card(_ctx: &Context, id: &str, sheet: &Sheet, taken: u32) -> Result<Message> {
    let reference = SheetRef {
        sheet: id.to_owned(),
    };
    Ok(
        Message::new(format!("{}: {taken} of {} taken", sheet.title, sheet.slots))
            .header(&sheet.title)
            .fields([("Places", format!("{taken} of {} taken", sheet.slots))])
            .actions([
                Button::new("Sign up", "join")
                    .payload(&reference)?
                    .style(ButtonStyle::Primary),
                Button::new("My signup", "mine").payload(&reference)?,
            ]),
    )
}

export_app!(Signup);

fn main() -> Result<()> {
    use qun_sdk::testing::TestGroup;

    let mut g = TestGroup::<Signup>::new()
        .member("ann", "Ann", Role::Owner)
        .member("bob", "Bob", Role::Member);
    // A wrong option is refused by the host's own check, naming it.
    let err = g
        .command("ann", "/sheet Picnic | lots")
        .expect_err("not a number");
    assert!(err.message().contains("slots"), "{err}");
    // A missing one opens the command's form.
    assert!(g.command("ann", "/sheet Picnic")?.as_form().is_some());
    g.submit("ann", json!({"title": "Picnic", "slots": 2}))?;

    let card = g.last_posted_id().expect("the card");
    g.click("bob", &card, "Sign up")?; // opens the form for bob
    let errors = g.submit("bob", json!({"food": "maybe"}))?;
    assert_eq!(errors.errors()[0].input, "food"); // refused by the host's check
    let reply = g.submit("bob", json!({"note": "after 12", "food": true}))?;
    assert_eq!(reply, Reply::private(Message::new("You are in: Picnic")));
    // The card was updated in place; bob's reply is his alone.
    assert_eq!(
        g.message_for("ann", &card).and_then(|m| m.field("Places")),
        Some("1 of 2 taken")
    );
    assert_eq!(g.private_replies("bob").len(), 1);
    assert!(g.private_replies("ann").is_empty());
    println!("signup: ok");
    Ok(())
}
