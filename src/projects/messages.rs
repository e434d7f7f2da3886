//! A project's message thread: oldest first, newest at the bottom, posted with htmx
//! without a reload (the new message and a fresh form come back as fragments) or with
//! a plain form post.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::Deserialize;

use super::handlers::parse_id;
use super::queries::{self, Project};
use crate::db;
use crate::db::ids::{MessageId, ProjectId};
use crate::db::schema::project_messages;
use crate::state::AppState;
use crate::web::auth::OrgContext;
use crate::web::fields;
use crate::web::flash::redirect;
use crate::web::form::FieldErrors;
use crate::web::htmx::wants_fragment;
use crate::web::layout::Layout;
use crate::web::{AppError, Form, render};

/// How many of the latest messages a page shows.
const SHOWN: i64 = 200;

#[derive(QueryableByName, Debug, Clone)]
pub struct Message {
    #[diesel(sql_type = SqlUuid)]
    pub id: MessageId,
    #[diesel(sql_type = Nullable<Text>)]
    pub author: Option<String>,
    #[diesel(sql_type = Text)]
    pub body: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

impl Message {
    pub fn when(&self) -> String {
        crate::web::time::ago(self.created_at)
    }

    pub fn stamp(&self) -> String {
        self.created_at.format("%Y-%m-%d %H:%M UTC").to_string()
    }

    pub fn author_name(&self) -> &str {
        self.author.as_deref().unwrap_or("A former member")
    }
}

/// The latest messages, oldest first.
pub fn recent(conn: &mut PgConnection, project: ProjectId) -> QueryResult<Vec<Message>> {
    let mut rows: Vec<Message> = crate::db::sql_query(
        "SELECT m.id, u.name AS author, m.body, m.created_at
         FROM project_messages m LEFT JOIN users u ON u.id = m.author_id
         WHERE m.project_id = $1 ORDER BY m.created_at DESC, m.id DESC LIMIT $2",
    )
    .bind::<SqlUuid, _>(project)
    .bind::<diesel::sql_types::BigInt, _>(SHOWN)
    .load(conn)?;
    rows.reverse();
    Ok(rows)
}

#[derive(Template)]
#[template(path = "projects/messages.html")]
struct ThreadPage {
    layout: Layout,
    project: Project,
    messages: Vec<Message>,
    message_error: Option<String>,
    message_body: String,
}

/// The form alone (htmx answer), with the message just posted sent out of band.
#[derive(Template)]
#[template(path = "projects/_message_posted.html")]
struct Posted {
    project_id: ProjectId,
    csrf: String,
    posted: Option<Message>,
    message_error: Option<String>,
    message_body: String,
}

/// GET /projects/{id}/messages
pub async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let (project, messages) =
        db::tenant_tx(&state.pool, ctx.tenant(), move |conn| Ok((queries::find(conn, id)?, recent(conn, id)?))).await?;
    let page = ThreadPage {
        layout: Layout::member(&req, &ctx, format!("Messages · {}", project.title), "/projects"),
        project,
        messages,
        message_error: None,
        message_body: String::new(),
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct MessageForm {
    #[serde(default)]
    body: String,
}

/// POST /projects/{id}/messages
pub async fn post(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
    Form(form): Form<MessageForm>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let mut errors = FieldErrors::default();
    let body = fields::text(&mut errors, "body", &form.body, 10_000, Some("a message"));
    let tenant = ctx.tenant();
    let message_error = errors.get("body").map(str::to_string);
    let outcome = db::tenant_tx(&state.pool, tenant, move |conn| {
        let project = queries::find(conn, id)?;
        if !errors.is_empty() {
            return Ok((project, None));
        }
        let message_id = MessageId::new();
        diesel::insert_into(project_messages::table)
            .values((
                project_messages::id.eq(message_id),
                project_messages::org_id.eq(tenant.org_id),
                project_messages::project_id.eq(id),
                project_messages::author_id.eq(tenant.user_id),
                project_messages::body.eq(&body),
            ))
            .execute(conn)?;
        let posted = recent(conn, id)?.into_iter().rfind(|m| m.id == message_id);
        Ok((project, posted))
    })
    .await?;
    let (project, posted) = outcome;
    let status = if message_error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    if wants_fragment(&req) {
        let fragment = Posted {
            project_id: id,
            csrf: crate::web::csrf::token(&req),
            posted,
            message_body: if message_error.is_some() { form.body } else { String::new() },
            message_error,
        };
        return render(status, &fragment);
    }
    if message_error.is_some() {
        let messages = db::tenant_tx(&state.pool, tenant, move |conn| Ok(recent(conn, id)?)).await?;
        let page = ThreadPage {
            layout: Layout::member(&req, &ctx, format!("Messages · {}", project.title), "/projects"),
            project,
            messages,
            message_error,
            message_body: form.body,
        };
        return render(StatusCode::BAD_REQUEST, &page);
    }
    Ok(redirect(&format!("/projects/{id}#messages")))
}
