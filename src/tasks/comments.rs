//! Comments on a task. `@Full Name` (or `@First` when only one member has that first
//! name) mentions a member, who is notified; the assignee hears of every comment.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::Deserialize;

use super::handlers::{parse_id, show_page};
use super::queries;
use crate::db;
use crate::db::ids::{CommentId, TaskId, UserId};
use crate::db::schema::task_comments;
use crate::notifications::{self, Kind, Notice};
use crate::state::AppState;
use crate::web::auth::OrgContext;
use crate::web::fields;
use crate::web::flash::redirect;
use crate::web::form::FieldErrors;
use crate::web::{AppError, Form};

#[derive(QueryableByName)]
pub struct Comment {
    #[diesel(sql_type = SqlUuid)]
    pub id: CommentId,
    #[diesel(sql_type = Nullable<Text>)]
    pub author: Option<String>,
    #[diesel(sql_type = Text)]
    pub body: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

impl Comment {
    pub fn author_name(&self) -> &str {
        self.author.as_deref().unwrap_or("A former member")
    }

    pub fn when(&self) -> String {
        crate::web::time::ago(self.created_at)
    }
}

pub fn list(conn: &mut PgConnection, task: TaskId) -> QueryResult<Vec<Comment>> {
    crate::db::sql_query(
        "SELECT c.id, u.name AS author, c.body, c.created_at
         FROM task_comments c LEFT JOIN users u ON u.id = c.author_id
         WHERE c.task_id = $1 ORDER BY c.created_at, c.id",
    )
    .bind::<SqlUuid, _>(task)
    .load(conn)
}

/// The members a comment mentions, each once.
pub fn mentioned(body: &str, people: &[(UserId, String)]) -> Vec<UserId> {
    let text = body.to_lowercase();
    let at_word = |needle: &str| {
        text.match_indices(&format!("@{needle}"))
            .any(|(i, m)| text[i + m.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric()))
    };
    let mut found = Vec::new();
    for (id, name) in people {
        let full = name.to_lowercase();
        let first = full.split_whitespace().next().unwrap_or_default().to_string();
        let first_is_unique =
            people.iter().filter(|(_, n)| n.to_lowercase().split_whitespace().next() == Some(first.as_str())).count()
                == 1;
        if (at_word(&full) || (first_is_unique && !first.is_empty() && at_word(&first))) && !found.contains(id) {
            found.push(*id);
        }
    }
    found
}

#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    body: String,
}

/// POST /tasks/{id}/comments
pub async fn post(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
    Form(form): Form<CommentForm>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let mut errors = FieldErrors::default();
    let body = fields::text(&mut errors, "body", &form.body, 10_000, Some("a comment"));
    if !errors.is_empty() {
        return show_page(&req, &state, &ctx, id, errors, form.body, StatusCode::BAD_REQUEST).await;
    }
    let tenant = ctx.tenant();
    let author = ctx.user.name.clone();
    let comment_id = db::tenant_tx(&state.pool, tenant, move |conn| {
        let task = queries::find(conn, id)?;
        let comment_id = CommentId::new();
        diesel::insert_into(task_comments::table)
            .values((
                task_comments::id.eq(comment_id),
                task_comments::org_id.eq(tenant.org_id),
                task_comments::task_id.eq(id),
                task_comments::author_id.eq(tenant.user_id),
                task_comments::body.eq(&body),
            ))
            .execute(conn)?;
        let people: Vec<(UserId, String)> =
            crate::projects::queries::staff(conn, None)?.into_iter().map(|p| (p.id, p.name)).collect();
        let link = format!("/tasks/{id}#comment-{comment_id}");
        let mentions = mentioned(&body, &people);
        for user in &mentions {
            let notice = Notice {
                kind: Kind::Mention,
                title: format!("{author} mentioned you on “{}”", task.title),
                link: link.clone(),
                entity: ("task", id.0),
            };
            notifications::notify(conn, &tenant, *user, &notice)?;
        }
        if let Some(assignee) = task.assignee_id.filter(|a| !mentions.contains(a)) {
            let notice = Notice {
                kind: Kind::TaskComment,
                title: format!("{author} commented on “{}”", task.title),
                link,
                entity: ("task", id.0),
            };
            notifications::notify(conn, &tenant, assignee, &notice)?;
        }
        Ok(comment_id)
    })
    .await?;
    Ok(redirect(&format!("/tasks/{id}#comment-{comment_id}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_match_full_names_and_unique_first_names_only() {
        let mia = UserId::new();
        let mateo = UserId::new();
        let mark = UserId::new();
        let mark2 = UserId::new();
        let people = vec![
            (mia, "Mia Laurent".to_string()),
            (mateo, "Mateo Ruiz".to_string()),
            (mark, "Mark One".to_string()),
            (mark2, "Mark Two".to_string()),
        ];
        assert_eq!(mentioned("thanks @mia, and @Mateo Ruiz!", &people), vec![mia, mateo]);
        // Two Marks: the first name alone is ambiguous; the full name is not.
        assert_eq!(mentioned("@mark please", &people), Vec::<UserId>::new());
        assert_eq!(mentioned("@Mark Two please", &people), vec![mark2]);
        // Part of a longer word is not a mention.
        assert_eq!(mentioned("@miasma", &people), Vec::<UserId>::new());
        assert_eq!(mentioned("mail mia@example.com", &people), Vec::<UserId>::new());
    }
}
