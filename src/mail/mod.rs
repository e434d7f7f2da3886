//! Email: messages are rendered when the action happens (plain text and HTML, with
//! the organization's name and color), queued as a job in the same transaction, and
//! sent by a worker over SMTP — or, without SMTP settings, written as .eml files
//! under DATA_DIR/mail. An SMTP outage delays mail; it loses none.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use askama::Template;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::{FileTransport, SmtpTransport, Transport};
use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::db::ids::OrgId;
use crate::jobs;

pub const JOB_KIND: &str = "email";

/// A message ready to send, as stored in the job's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutgoingEmail {
    pub to: String,
    /// Shown as the sender's name (the organization's), with our own address.
    pub from_name: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Who the message is from, as the recipient sees it.
pub struct Brand {
    pub org_name: Option<String>,
    /// A validated `#rrggbb` color (the organizations table allows nothing else).
    pub color: String,
}

impl Brand {
    pub fn client_hub() -> Brand {
        Brand { org_name: None, color: crate::web::layout::DEFAULT_BRAND.to_string() }
    }

    pub fn org(name: &str, color: &str) -> Brand {
        let valid = color.len() == 7 && color.starts_with('#') && color[1..].chars().all(|c| c.is_ascii_hexdigit());
        Brand {
            org_name: Some(name.to_string()),
            color: if valid { color.to_string() } else { crate::web::layout::DEFAULT_BRAND.to_string() },
        }
    }

    pub fn sender_name(&self) -> &str {
        self.org_name.as_deref().unwrap_or("Client Hub")
    }
}

/// What most messages say: a greeting, a few paragraphs, one button, fine print.
pub struct Letter {
    pub brand: Brand,
    pub subject: String,
    pub greeting: String,
    pub paragraphs: Vec<String>,
    pub action: Option<(String, String)>,
    pub fine_print: Vec<String>,
}

#[derive(Template)]
#[template(path = "mail/letter.html")]
struct LetterHtml<'a> {
    l: &'a Letter,
}

#[derive(Template)]
#[template(path = "mail/letter.txt")]
struct LetterText<'a> {
    l: &'a Letter,
}

impl Letter {
    pub fn render(&self, to: &str) -> anyhow::Result<OutgoingEmail> {
        Ok(OutgoingEmail {
            to: to.to_string(),
            from_name: self.brand.org_name.clone(),
            // Headers are one line; lettre encodes the rest.
            subject: self.subject.replace(['\r', '\n'], " "),
            text: LetterText { l: self }.render()?,
            html: LetterHtml { l: self }.render()?,
        })
    }
}

/// Queues `email` to be sent after the current transaction commits.
pub fn enqueue(conn: &mut PgConnection, org_id: Option<OrgId>, email: &OutgoingEmail) -> QueryResult<()> {
    let payload = serde_json::to_value(email).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    jobs::enqueue(conn, org_id, JOB_KIND, &payload, None).map(|_| ())
}

enum Delivery {
    Smtp(Box<SmtpTransport>),
    Files(PathBuf),
}

pub struct Mailer {
    delivery: Delivery,
    from: Mailbox,
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Mailer> {
        let from: Mailbox = settings.mail.from.parse().context("mail.from is not a valid address")?;
        let delivery = if settings.mail.smtp_url.is_empty() {
            Delivery::Files(settings.data.dir.join("mail"))
        } else {
            let transport = SmtpTransport::from_url(&settings.mail.smtp_url)
                .context("SMTP_URL is not a valid SMTP URL")?
                .timeout(Some(Duration::from_secs(15)))
                .build();
            Delivery::Smtp(Box::new(transport))
        };
        Ok(Mailer { delivery, from })
    }

    fn build(&self, email: &OutgoingEmail) -> anyhow::Result<lettre::Message> {
        let from = match &email.from_name {
            // "Northwind via Client Hub": an organization's name is free text, so the
            // sender always says whose address this really is.
            Some(name) => Mailbox::new(
                Some(format!("{} via Client Hub", name.replace(['\r', '\n'], " "))),
                self.from.email.clone(),
            ),
            None => self.from.clone(),
        };
        Ok(lettre::Message::builder()
            .from(from)
            .to(email.to.parse().context("recipient address")?)
            .subject(&email.subject)
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(email.text.clone()))
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(email.html.clone())),
            )?)
    }

    pub fn send(&self, email: &OutgoingEmail) -> anyhow::Result<()> {
        let message = self.build(email)?;
        match &self.delivery {
            Delivery::Smtp(transport) => {
                transport.send(&message).context("SMTP delivery")?;
            }
            Delivery::Files(dir) => {
                std::fs::create_dir_all(dir)?;
                let id = FileTransport::new(dir).send(&message).context("writing the .eml file")?;
                tracing::info!(to = email.to, subject = email.subject, file = %dir.join(format!("{id}.eml")).display(), "email written");
            }
        }
        Ok(())
    }
}
