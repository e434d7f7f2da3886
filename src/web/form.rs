//! `Form<T>`: an urlencoded body, limited in size, checked to be UTF-8, and parsed
//! with serde_html_form (repeated and indexed fields). Failures are clear errors;
//! field-level validation is the handler's, which re-renders the form with 400.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::BytesMut;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::state::AppState;
use crate::web::error::AppError;

/// `MAX` overrides the settings' body limit (in bytes) for one route's form; 0 keeps it.
pub struct Form<T, const MAX: usize = 0>(pub T);

/// Messages keyed by field name, shown next to each field.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors(BTreeMap<&'static str, String>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.entry(field).or_insert_with(|| message.into());
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn limit_for(req: &HttpRequest, max: usize) -> usize {
    if max > 0 {
        return max;
    }
    req.app_data::<web::Data<AppState>>().map(|s| s.settings.security.max_form_bytes).unwrap_or(10 * 1024)
}

/// Parses an urlencoded body into `T`, refusing text that is not UTF-8.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    for pair in body.split(|b| *b == b'&') {
        let plus_as_space: Vec<u8> = pair.iter().map(|b| if *b == b'+' { b' ' } else { *b }).collect();
        if percent_encoding::percent_decode(&plus_as_space).decode_utf8().is_err() {
            return Err(AppError::BadRequest(
                "The form contained characters that are not valid text. Please retype it and try again.".into(),
            ));
        }
    }
    serde_html_form::from_bytes(body)
        .map_err(|_| AppError::BadRequest("The form could not be read. Please reload the page and try again.".into()))
}

impl<T: DeserializeOwned + 'static, const MAX: usize> FromRequest for Form<T, MAX> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = limit_for(req, MAX);
        let content_type_ok = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        let declared_too_large = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .is_some_and(|len| len > limit);
        let mut payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(AppError::BadRequest("The form was sent in a format we do not accept.".into()));
            }
            if declared_too_large {
                return Err(AppError::PayloadTooLarge { limit });
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
                if body.len() + chunk.len() > limit {
                    return Err(AppError::PayloadTooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            parse(&body).map(Form)
        })
    }
}
