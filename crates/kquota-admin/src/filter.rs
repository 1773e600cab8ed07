//! Describe filters (DescribeClientQuotas components and `strict`).

use crate::model::{Entity, EntityName, EntityType};

/// How one entity type is matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// The entity has this type with exactly this name (wire match type 0).
    Exact(String),
    /// The entity has the default of this type (wire match type 1).
    Default,
    /// The entity has this type, named or default (wire match type 2, "specified").
    Any,
}

/// One filter component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// The entity type matched.
    pub entity_type: EntityType,
    /// How its name is matched.
    pub matching: Match,
}

/// A describe filter: every component must match; with `strict` the entity must have no other
/// types. No components and `strict = false` means everything.
///
/// ```
/// use kquota_admin::{Filter, Entity, EntityName};
/// let f = Filter::exact_entity(&Entity::new().with_user(EntityName::Default));
/// assert!(f.strict);
/// assert!(Filter::all().matches(&Entity::new().with_client_id(EntityName::named("x"))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    /// Components (at most one per type).
    pub components: Vec<Component>,
    /// Only entities with exactly the filtered types.
    pub strict: bool,
}

impl Filter {
    /// Everything (no components, not strict).
    pub fn all() -> Filter {
        Filter::default()
    }

    /// Exactly one entity: EXACT/DEFAULT components, strict (what kafka-configs `--describe` does).
    pub fn exact_entity(entity: &Entity) -> Filter {
        Filter {
            components: entity
                .components()
                .map(|(t, n)| Component {
                    entity_type: t,
                    matching: match n {
                        EntityName::Default => Match::Default,
                        EntityName::Named(s) => Match::Exact(s.clone()),
                    },
                })
                .collect(),
            strict: true,
        }
    }

    /// Local evaluation of the filter, with the broker's semantics (used to check results and
    /// for offline files).
    pub fn matches(&self, entity: &Entity) -> bool {
        let all = self
            .components
            .iter()
            .all(|c| match (entity.get(c.entity_type), &c.matching) {
                (None, _) => false,
                (Some(_), Match::Any) => true,
                (Some(EntityName::Default), Match::Default) => true,
                (Some(EntityName::Named(n)), Match::Exact(m)) => n == m,
                _ => false,
            });
        all && (!self.strict || entity.components().count() == self.components.len())
    }
}
