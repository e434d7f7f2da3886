// @generated shape of `diesel print-schema` for the migrations in migrations/.
// tests/it/schema.rs checks that it matches the migrated database.

pub mod sql_types {
    /// PostgreSQL's full-text search document (generated columns, only read by SQL).
    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "tsvector"))]
    pub struct Tsvector;
}

diesel::table! {
    audit_logs (id) {
        id -> Uuid,
        org_id -> Nullable<Uuid>,
        actor_id -> Nullable<Uuid>,
        action -> Text,
        entity_type -> Nullable<Text>,
        entity_id -> Nullable<Uuid>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        metadata -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    memberships (id) {
        id -> Uuid,
        org_id -> Uuid,
        user_id -> Uuid,
        role_id -> Uuid,
        client_id -> Nullable<Uuid>,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        hourly_rate -> Nullable<Numeric>,
    }
}

diesel::table! {
    organizations (id) {
        id -> Uuid,
        name -> Text,
        status -> Text,
        brand_color -> Text,
        default_currency -> Text,
        timezone -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        address -> Text,
        tax_id -> Text,
        invoice_prefix -> Text,
        quotation_prefix -> Text,
        payment_terms_days -> Int4,
        paper_size -> Text,
        require_two_factor -> Bool,
        logo -> Nullable<Bytea>,
        logo_content_type -> Nullable<Text>,
        logo_updated_at -> Nullable<Timestamptz>,
        storage_bytes -> Int8,
    }
}

diesel::table! {
    role_permissions (org_id, role_id, permission) {
        org_id -> Uuid,
        role_id -> Uuid,
        permission -> Text,
    }
}

diesel::table! {
    roles (id) {
        id -> Uuid,
        org_id -> Uuid,
        key -> Nullable<Text>,
        name -> Text,
        power -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        key_hash -> Bytea,
        user_id -> Nullable<Uuid>,
        state -> Jsonb,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        created_at -> Timestamptz,
        last_seen_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        display_id -> Text,
        status -> Text,
        is_platform_owner -> Bool,
        active_org_id -> Nullable<Uuid>,
        last_login_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        totp_secret -> Nullable<Text>,
        totp_enabled_at -> Nullable<Timestamptz>,
        totp_last_step -> Nullable<Int8>,
        two_factor_failures -> Int4,
        two_factor_locked_until -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> Uuid,
        user_id -> Uuid,
        code_hash -> Bytea,
        used_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    user_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        purpose -> Text,
        token_hash -> Bytea,
        new_email -> Nullable<Text>,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    invitations (id) {
        id -> Uuid,
        org_id -> Uuid,
        email -> Nullable<Text>,
        invitee_id -> Nullable<Uuid>,
        invitee_label -> Text,
        role_id -> Uuid,
        client_id -> Nullable<Uuid>,
        invited_by -> Nullable<Uuid>,
        token_hash -> Bytea,
        status -> Text,
        expires_at -> Timestamptz,
        sent_count -> Int4,
        last_sent_at -> Timestamptz,
        responded_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Int8,
        email -> Text,
        ip -> Nullable<Text>,
        at -> Timestamptz,
        refused -> Bool,
    }
}

diesel::table! {
    jobs (id) {
        id -> Uuid,
        org_id -> Nullable<Uuid>,
        kind -> Text,
        payload -> Jsonb,
        status -> Text,
        run_at -> Timestamptz,
        attempts -> Int4,
        max_attempts -> Int4,
        last_error -> Nullable<Text>,
        locked_by -> Nullable<Text>,
        locked_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Tsvector;

    clients (id) {
        id -> Uuid,
        org_id -> Uuid,
        name -> Text,
        company -> Text,
        email -> Text,
        phone -> Text,
        address -> Text,
        tax_id -> Text,
        notes -> Text,
        search -> Nullable<Tsvector>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        name_key -> Nullable<Text>,
        company_key -> Nullable<Text>,
        email_key -> Nullable<Text>,
    }
}

diesel::table! {
    files (id) {
        id -> Uuid,
        org_id -> Uuid,
        project_id -> Nullable<Uuid>,
        uploaded_by -> Nullable<Uuid>,
        original_name -> Text,
        content_type -> Text,
        size_bytes -> Int8,
        storage_key -> Text,
        sha256 -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    notifications (id) {
        id -> Uuid,
        org_id -> Uuid,
        user_id -> Uuid,
        actor_id -> Nullable<Uuid>,
        kind -> Text,
        title -> Text,
        link -> Text,
        entity_type -> Nullable<Text>,
        entity_id -> Nullable<Uuid>,
        read_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    project_members (project_id, user_id) {
        org_id -> Uuid,
        project_id -> Uuid,
        user_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    project_messages (id) {
        id -> Uuid,
        org_id -> Uuid,
        project_id -> Uuid,
        author_id -> Nullable<Uuid>,
        body -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Tsvector;

    projects (id) {
        id -> Uuid,
        org_id -> Uuid,
        client_id -> Nullable<Uuid>,
        title -> Text,
        description -> Text,
        status -> Text,
        start_date -> Nullable<Date>,
        due_date -> Nullable<Date>,
        budget -> Nullable<Numeric>,
        hourly_rate -> Nullable<Numeric>,
        client_visible -> Bool,
        search -> Nullable<Tsvector>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    task_activity (id) {
        id -> Uuid,
        org_id -> Uuid,
        task_id -> Uuid,
        actor_id -> Nullable<Uuid>,
        field -> Text,
        old_value -> Nullable<Text>,
        new_value -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    task_comments (id) {
        id -> Uuid,
        org_id -> Uuid,
        task_id -> Uuid,
        author_id -> Nullable<Uuid>,
        body -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    tasks (id) {
        id -> Uuid,
        org_id -> Uuid,
        project_id -> Uuid,
        parent_id -> Nullable<Uuid>,
        title -> Text,
        description -> Text,
        status -> Text,
        priority -> Text,
        assignee_id -> Nullable<Uuid>,
        due_date -> Nullable<Date>,
        estimate_hours -> Nullable<Numeric>,
        position -> Int4,
        client_visible -> Bool,
        created_by -> Nullable<Uuid>,
        completed_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    time_entries (id) {
        id -> Uuid,
        org_id -> Uuid,
        task_id -> Uuid,
        user_id -> Uuid,
        entry_date -> Date,
        minutes -> Nullable<Int4>,
        started_at -> Nullable<Timestamptz>,
        note -> Text,
        billable -> Bool,
        hourly_rate -> Nullable<Numeric>,
        invoice_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    taxes (id) {
        id -> Uuid,
        org_id -> Uuid,
        name -> Text,
        rate -> Numeric,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    document_counters (org_id, kind, year) {
        org_id -> Uuid,
        kind -> Text,
        year -> Int4,
        last_number -> Int4,
    }
}

diesel::table! {
    quotations (id) {
        id -> Uuid,
        org_id -> Uuid,
        client_id -> Uuid,
        project_id -> Nullable<Uuid>,
        number -> Nullable<Text>,
        status -> Text,
        issue_date -> Date,
        valid_until -> Date,
        currency -> Text,
        notes -> Text,
        terms -> Text,
        subtotal -> Numeric,
        tax_total -> Numeric,
        total -> Numeric,
        issued_at -> Nullable<Timestamptz>,
        parties -> Nullable<Jsonb>,
        sent_at -> Nullable<Timestamptz>,
        sent_by -> Nullable<Uuid>,
        responded_at -> Nullable<Timestamptz>,
        decline_reason -> Nullable<Text>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    invoices (id) {
        id -> Uuid,
        org_id -> Uuid,
        client_id -> Uuid,
        project_id -> Nullable<Uuid>,
        number -> Nullable<Text>,
        status -> Text,
        issue_date -> Date,
        due_date -> Date,
        currency -> Text,
        notes -> Text,
        terms -> Text,
        subtotal -> Numeric,
        tax_total -> Numeric,
        total -> Numeric,
        amount_paid -> Numeric,
        quotation_id -> Nullable<Uuid>,
        issued_at -> Nullable<Timestamptz>,
        parties -> Nullable<Jsonb>,
        sent_at -> Nullable<Timestamptz>,
        sent_by -> Nullable<Uuid>,
        voided_at -> Nullable<Timestamptz>,
        void_reason -> Nullable<Text>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    invoice_items (id) {
        id -> Uuid,
        org_id -> Uuid,
        invoice_id -> Uuid,
        position -> Int4,
        description -> Text,
        quantity -> Numeric,
        unit_price -> Numeric,
        amount -> Numeric,
        tax_id -> Nullable<Uuid>,
        tax_name -> Nullable<Text>,
        tax_rate -> Nullable<Numeric>,
    }
}

diesel::table! {
    quotation_items (id) {
        id -> Uuid,
        org_id -> Uuid,
        quotation_id -> Uuid,
        position -> Int4,
        description -> Text,
        quantity -> Numeric,
        unit_price -> Numeric,
        amount -> Numeric,
        tax_id -> Nullable<Uuid>,
        tax_name -> Nullable<Text>,
        tax_rate -> Nullable<Numeric>,
    }
}

diesel::table! {
    payments (id) {
        id -> Uuid,
        org_id -> Uuid,
        invoice_id -> Uuid,
        paid_on -> Date,
        amount -> Numeric,
        method -> Text,
        note -> Text,
        recorded_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

// Kept by triggers (migrations 11, 12 and 14): the dashboard's figures without counting.
diesel::table! {
    client_tallies (org_id) {
        org_id -> Uuid,
        clients -> Int8,
    }
}

diesel::table! {
    project_tallies (org_id, status) {
        org_id -> Uuid,
        status -> Text,
        projects -> Int8,
    }
}

diesel::table! {
    invoice_tallies (org_id, currency, status) {
        org_id -> Uuid,
        currency -> Text,
        status -> Text,
        invoices -> Int8,
        total -> Numeric,
        owed -> Numeric,
    }
}

diesel::table! {
    open_task_tallies (org_id, due_date) {
        org_id -> Uuid,
        due_date -> Date,
        open -> Int8,
    }
}

diesel::table! {
    payment_tallies (org_id, month, currency) {
        org_id -> Uuid,
        month -> Date,
        currency -> Text,
        received -> Numeric,
    }
}

diesel::table! {
    receivable_tallies (org_id, currency, due_date) {
        org_id -> Uuid,
        currency -> Text,
        due_date -> Date,
        outstanding -> Numeric,
        invoices -> Int8,
    }
}

diesel::table! {
    portal_tokens (id) {
        id -> Uuid,
        org_id -> Uuid,
        client_id -> Uuid,
        purpose -> Text,
        document_id -> Nullable<Uuid>,
        token_hash -> Bytea,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        email -> Nullable<Text>,
    }
}

diesel::table! {
    chat_channels (id) {
        id -> Uuid,
        org_id -> Uuid,
        name -> Text,
        client_id -> Nullable<Uuid>,
        last_seq -> Int8,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    chat_messages (id) {
        id -> Uuid,
        org_id -> Uuid,
        channel_id -> Uuid,
        seq -> Int8,
        author_id -> Nullable<Uuid>,
        body -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    notification_email_settings (user_id, kind) {
        user_id -> Uuid,
        kind -> Text,
        email -> Bool,
    }
}

diesel::joinable!(audit_logs -> organizations (org_id));
diesel::joinable!(audit_logs -> users (actor_id));
diesel::table! {
    plans (key) {
        key -> Text,
        name -> Text,
        position -> Int4,
        price -> Text,
        max_members -> Nullable<Int4>,
        max_clients -> Nullable<Int4>,
        max_projects -> Nullable<Int4>,
        max_storage_bytes -> Nullable<Int8>,
    }
}

diesel::table! {
    subscriptions (org_id) {
        org_id -> Uuid,
        plan -> Text,
        status -> Text,
        current_period_end -> Nullable<Date>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    feature_flags (key) {
        key -> Text,
        name -> Text,
        description -> Text,
        enabled -> Bool,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    feature_flag_overrides (org_id, flag_key) {
        org_id -> Uuid,
        flag_key -> Text,
        enabled -> Bool,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    platform_staff (user_id) {
        user_id -> Uuid,
        added_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    platform_audit_logs (id) {
        id -> Uuid,
        actor_id -> Nullable<Uuid>,
        action -> Text,
        target_type -> Nullable<Text>,
        target_id -> Nullable<Uuid>,
        summary -> Text,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        metadata -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    support_conversations (id) {
        id -> Uuid,
        user_id -> Uuid,
        org_id -> Nullable<Uuid>,
        status -> Text,
        last_message_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    support_messages (id) {
        id -> Uuid,
        conversation_id -> Uuid,
        author_id -> Nullable<Uuid>,
        from_staff -> Bool,
        body -> Text,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(memberships -> organizations (org_id));
diesel::joinable!(memberships -> roles (role_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(roles -> organizations (org_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(invitations -> organizations (org_id));
diesel::joinable!(invitations -> roles (role_id));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(user_tokens -> users (user_id));

diesel::joinable!(projects -> users (created_by));
diesel::joinable!(tasks -> projects (project_id));
diesel::joinable!(task_comments -> tasks (task_id));
diesel::joinable!(task_activity -> tasks (task_id));
diesel::joinable!(time_entries -> tasks (task_id));
diesel::joinable!(time_entries -> users (user_id));
diesel::joinable!(project_messages -> projects (project_id));
diesel::joinable!(files -> projects (project_id));
diesel::joinable!(project_members -> projects (project_id));
diesel::joinable!(project_members -> users (user_id));
diesel::joinable!(invoices -> clients (client_id));
diesel::joinable!(quotations -> clients (client_id));
diesel::joinable!(invoice_items -> invoices (invoice_id));
diesel::joinable!(quotation_items -> quotations (quotation_id));
diesel::joinable!(payments -> invoices (invoice_id));
diesel::joinable!(subscriptions -> plans (plan));
diesel::joinable!(support_messages -> support_conversations (conversation_id));

diesel::allow_tables_to_appear_in_same_query!(
    audit_logs,
    clients,
    files,
    notifications,
    project_members,
    project_messages,
    projects,
    task_activity,
    task_comments,
    tasks,
    time_entries,
    invitations,
    jobs,
    memberships,
    organizations,
    recovery_codes,
    role_permissions,
    roles,
    sessions,
    user_tokens,
    users,
    taxes,
    document_counters,
    invoices,
    invoice_items,
    quotations,
    quotation_items,
    payments,
    portal_tokens,
    chat_channels,
    chat_messages,
    notification_email_settings,
    plans,
    subscriptions,
    feature_flags,
    feature_flag_overrides,
    platform_staff,
    platform_audit_logs,
    support_conversations,
    support_messages,
);
