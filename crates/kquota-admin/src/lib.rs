//! kquota-admin: Kafka client quotas for multi-tenant clusters.
//!
//! * [`model`]: entities (`user`, `client-id`, `ip`; named or default), quota keys, alterations.
//! * [`validate`]: the broker's validation rules, applied locally before anything is sent.
//! * [`resolve()`]: effective quota of a (user, client-id) pair with Kafka's 8-level precedence.
//! * [`plan`]: declarative YAML/JSON files, diff (plan), alterations (apply) and export.
//! * [`filter`]: describe filters with the broker's match semantics.
//! * [`client::QuotaAdmin`]: DescribeClientQuotas / AlterClientQuotas over kquota-net.
//! * [`ops`]: topics, ACLs and broker configs (what the quota scenario needs).
//! * [`scram`]: DescribeUserScramCredentials (mechanisms and iterations, never secrets).
//!
//! ```
//! use kquota_admin::{validate_alterations, Alteration, Entity, EntityName, Op, QuotaKey};
//! let alt = Alteration {
//!     entity: Entity::new().with_user(EntityName::Default).with_client_id(EntityName::named("app")),
//!     ops: vec![Op::Set(QuotaKey::ProducerByteRate, 1024.0)],
//! };
//! validate_alterations(&[alt]).unwrap();
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod filter;
pub mod model;
pub mod ops;
pub mod plan;
pub mod resolve;
pub mod scram;
pub mod validate;

pub use client::{
    AdminError, AlterIncomplete, AlterOutcome, AlterResult, AlterStep, BrokerError, QuotaAdmin,
    WireEntry,
};
pub use filter::{Component, Filter, Match};
pub use model::{
    Alteration, Entity, EntityName, EntityQuotas, EntityType, Op, QuotaKey, QuotaValues, Shape,
    ValueKind,
};
pub use plan::{diff, fmt_num, Change, ChangeKind, FileError, Format, KeyChange, Plan, QuotaFile};
pub use resolve::{
    precedence_chain, resolve, resolve_ip, Resolution, ResolvedKey, Sharing, Source,
};
pub use scram::{ScramCredentialInfo, ScramMechanism, UserScramCredentials};
pub use validate::{
    name_warnings, parse_value, validate_alterations, validate_entity, validate_value, Rule,
    ValidationError,
};
