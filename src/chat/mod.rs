//! Team chat (SPEC §4): channels per organization, created and deleted by those who
//! manage channels; a channel may be shared with one client, whose portal users then
//! take part. Messages are numbered per channel and delivered live to every open
//! browser over server-sent events, fanned out across app instances by PostgreSQL
//! LISTEN/NOTIFY (see `crate::live`); a browser that cannot keep a stream open polls.
//! Every page works without JavaScript (a plain post and reload).

pub mod channels;
pub mod messages;
pub mod stream;

use crate::team::Permission;
use crate::web::routes::{Access, routes};

routes! {
    GET "/chat" => Access::Shared(Permission::UseChat), channels::index;
    POST "/chat/channels" => Access::Permission(Permission::ManageChannels), channels::create;
    GET "/chat/channels/{id}" => Access::Shared(Permission::UseChat), channels::show;
    POST "/chat/channels/{id}/delete" => Access::Permission(Permission::ManageChannels), channels::delete;
    GET "/chat/channels/{id}/messages" => Access::Shared(Permission::UseChat), messages::page;
    POST "/chat/channels/{id}/messages" => Access::Shared(Permission::UseChat), messages::post;
    GET "/chat/channels/{id}/stream" => Access::Shared(Permission::UseChat), stream::chat;
}
