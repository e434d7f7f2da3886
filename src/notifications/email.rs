//! Notifications by email: each user chooses, per kind, whether they also want an
//! email (the ones that ask for action are on by default). The email is queued in the
//! transaction that makes the notification and written by the job worker, which knows
//! the public address the links are built from.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text, Uuid as SqlUuid};
use serde::{Deserialize, Serialize};

use super::Kind;
use crate::db::ids::{NotificationId, OrgId, UserId};
use crate::db::{self, Tenant, tenant};
use crate::mail::{Brand, Letter, OutgoingEmail};
use crate::state::AppState;
use crate::web::auth::OrgContext;
use crate::web::flash::{Flash, redirect_with};
use crate::web::{AppError, Form};

pub const JOB_KIND: &str = "notification_email";

#[derive(Serialize, Deserialize)]
struct Payload {
    org_id: OrgId,
    user_id: UserId,
    notification_id: NotificationId,
}

#[derive(QueryableByName)]
struct Wanted {
    #[diesel(sql_type = Bool)]
    wanted: bool,
}

/// `user_id`'s choices, kind by kind (defaults filled in).
pub fn choices(conn: &mut PgConnection, user_id: UserId) -> QueryResult<Vec<(Kind, bool)>> {
    use crate::db::schema::notification_email_settings as s;
    let chosen: HashMap<String, bool> = s::table
        .filter(s::user_id.eq(user_id))
        .select((s::kind, s::email))
        .load::<(String, bool)>(conn)?
        .into_iter()
        .collect();
    Ok(Kind::EMAILED.into_iter().map(|k| (k, chosen.get(k.key()).copied().unwrap_or(k.emailed_by_default()))).collect())
}

/// Queues the email of a notification just made, if its recipient wants it.
pub fn queue_if_wanted(
    conn: &mut PgConnection,
    tenant: &Tenant,
    recipient: UserId,
    kind: Kind,
    notification_id: NotificationId,
) -> QueryResult<()> {
    if !Kind::EMAILED.contains(&kind) {
        return Ok(());
    }
    let wanted = crate::db::sql_query(
        "SELECT COALESCE((SELECT email FROM notification_email_settings WHERE user_id = $1 AND kind = $2), $3) AS wanted",
    )
    .bind::<SqlUuid, _>(recipient)
    .bind::<Text, _>(kind.key())
    .bind::<Bool, _>(kind.emailed_by_default())
    .get_result::<Wanted>(conn)?
    .wanted;
    if !wanted {
        return Ok(());
    }
    let payload = Payload { org_id: tenant.org_id, user_id: recipient, notification_id };
    let payload = serde_json::to_value(&payload).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    crate::jobs::enqueue(conn, Some(tenant.org_id), JOB_KIND, &payload, None).map(|_| ())
}

#[derive(QueryableByName)]
struct ToSend {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Text)]
    link: String,
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    org_name: String,
    #[diesel(sql_type = Text)]
    brand_color: String,
    #[diesel(sql_type = Nullable<Bool>)]
    still_wanted: Option<bool>,
}

/// The email of a queued notification (the job worker sends it); None when there is
/// nothing to send any more: the notification or account is gone, or the user has
/// turned these emails off since.
pub fn compose(
    conn: &mut PgConnection,
    payload: &serde_json::Value,
    app_url: &str,
) -> anyhow::Result<Option<OutgoingEmail>> {
    let payload: Payload = serde_json::from_value(payload.clone())?;
    let who = Tenant { org_id: payload.org_id, user_id: payload.user_id, client_id: None };
    let found: Option<ToSend> = tenant::transaction(conn, &who, |conn| {
        crate::db::sql_query(
            "SELECT n.kind, n.title, n.link, u.email, u.name, o.name AS org_name, o.brand_color,
                    (SELECT email FROM notification_email_settings s WHERE s.user_id = u.id AND s.kind = n.kind) AS still_wanted
             FROM notifications n
             JOIN users u ON u.id = n.user_id AND u.status = 'active'
             JOIN organizations o ON o.id = n.org_id
             WHERE n.id = $1 AND n.user_id = app_user_id()",
        )
        .bind::<SqlUuid, _>(payload.notification_id)
        .get_result(conn)
        .optional()
    })?;
    let Some(n) = found else { return Ok(None) };
    let Some(kind) = Kind::from_key(&n.kind) else { return Ok(None) };
    if !n.still_wanted.unwrap_or(kind.emailed_by_default()) {
        return Ok(None);
    }
    let first_name = n.name.split_whitespace().next().unwrap_or(&n.name).to_string();
    let letter = Letter {
        brand: Brand::org(&n.org_name, &n.brand_color),
        subject: n.title.clone(),
        greeting: format!("Hello {first_name},"),
        paragraphs: vec![format!("{}.", n.title.trim_end_matches('.'))],
        action: Some(("Open in Client Hub".into(), format!("{app_url}{}", n.link))),
        fine_print: vec![format!(
            "You get this email because you asked to be told when {}. Choose which emails you get on your notifications page: {app_url}/notifications",
            kind.when()
        )],
    };
    Ok(Some(letter.render(&n.email)?))
}

#[derive(Deserialize)]
pub struct EmailForm {
    /// The kinds ticked (repeated `email` fields).
    #[serde(default)]
    email: Vec<String>,
}

/// POST /notifications/email — the whole set of choices (an unticked box is "no").
pub async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    Form(form): Form<EmailForm>,
) -> Result<HttpResponse, AppError> {
    let on: Vec<Kind> = form.email.iter().filter_map(|key| Kind::from_key(key)).collect();
    let user_id = ctx.user.id;
    db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        for kind in Kind::EMAILED {
            crate::db::sql_query(
                "INSERT INTO notification_email_settings (user_id, kind, email) VALUES ($1, $2, $3)
                 ON CONFLICT (user_id, kind) DO UPDATE SET email = EXCLUDED.email",
            )
            .bind::<SqlUuid, _>(user_id)
            .bind::<Text, _>(kind.key())
            .bind::<Bool, _>(on.contains(&kind))
            .execute(conn)?;
        }
        Ok(())
    })
    .await?;
    Ok(redirect_with(&req, "/notifications", Flash::success("Your email choices are saved.")))
}
