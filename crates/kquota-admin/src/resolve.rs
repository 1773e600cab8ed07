//! Effective-quota resolution with Kafka's precedence (KIP-55), per key.
//!
//! No broker API returns effective quotas, so kquota computes them from the stored entities the
//! way the broker's default quota callback does (`ClientQuotaManager.DefaultQuotaCallback`):
//! each key independently takes the value of the most specific entity that sets it. Limits
//! apply **per broker**, and a custom `client.quota.callback.class` replaces all of this.

use std::net::IpAddr;

use crate::model::{Entity, EntityName, EntityQuotas, QuotaKey};

/// Who shares the bucket a resolved quota is measured in (the broker's metric tags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    /// Levels 1, 2, 4, 5: tags `(user, client-id)`; each client-id of the user has its own bucket.
    PerUserAndClientId,
    /// Levels 3, 6: tags `(user, "")`; all client-ids of this user share one bucket.
    AllClientIdsOfUser,
    /// Levels 7, 8: tags `("", client-id)`; all users presenting this client-id share one bucket.
    AllUsersOfClientId,
    /// ip quotas: per IP address.
    PerIp,
}

impl Sharing {
    /// One-line explanation for people (names with control characters escaped).
    pub fn describe(self, user: &str, client_id: &str) -> String {
        let user = crate::model::escape_controls(user);
        let client_id = crate::model::escape_controls(client_id);
        match self {
            Sharing::PerUserAndClientId => {
                format!("measured for this (user, client-id) pair only: user '{user}' with client-id '{client_id}'")
            }
            Sharing::AllClientIdsOfUser => {
                format!("shared by every client-id of user '{user}' (one bucket for the user)")
            }
            Sharing::AllUsersOfClientId => format!(
                "shared by every user presenting client-id '{client_id}' (anyone can claim it by setting client.id)"
            ),
            Sharing::PerIp => "measured per IP address".to_string(),
        }
    }
}

/// Where a resolved value came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// Precedence level, 1 (most specific) to 8; ip resolution uses 1 (exact ip) and 2 (default ip).
    pub level: u8,
    /// The stored entity that supplied the value.
    pub entity: Entity,
    /// Who shares the bucket.
    pub sharing: Sharing,
}

/// The effective value of one key.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedKey {
    /// The key.
    pub key: QuotaKey,
    /// The effective value per broker, or `None` for unlimited.
    pub value: Option<f64>,
    /// The entity it came from, `None` when unlimited.
    pub source: Option<Source>,
}

/// The effective quotas for one (user, client-id) pair or one ip.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    /// One entry per key, in key order.
    pub keys: Vec<ResolvedKey>,
}

/// The eight candidate entities for (user, client-id), most specific first.
pub fn precedence_chain(user: &str, client_id: &str) -> [(u8, Entity, Sharing); 8] {
    let u = || EntityName::named(user);
    let c = || EntityName::named(client_id);
    let d = || EntityName::Default;
    use Sharing::*;
    [
        (
            1,
            Entity::new().with_user(u()).with_client_id(c()),
            PerUserAndClientId,
        ),
        (
            2,
            Entity::new().with_user(u()).with_client_id(d()),
            PerUserAndClientId,
        ),
        (3, Entity::new().with_user(u()), AllClientIdsOfUser),
        (
            4,
            Entity::new().with_user(d()).with_client_id(c()),
            PerUserAndClientId,
        ),
        (
            5,
            Entity::new().with_user(d()).with_client_id(d()),
            PerUserAndClientId,
        ),
        (6, Entity::new().with_user(d()), AllClientIdsOfUser),
        (7, Entity::new().with_client_id(c()), AllUsersOfClientId),
        (8, Entity::new().with_client_id(d()), AllUsersOfClientId),
    ]
}

/// Resolves the effective user/client-id quotas of `(user, client_id)` over the stored
/// entities `state` (for example everything a describe returned).
///
/// ```
/// use kquota_admin::{resolve, Entity, EntityName, EntityQuotas, QuotaKey};
/// let state = vec![
///     EntityQuotas { entity: Entity::new().with_user(EntityName::Default).with_client_id(EntityName::named("app")),
///                    values: [(QuotaKey::ProducerByteRate, 1e6)].into_iter().collect() },
///     EntityQuotas { entity: Entity::new().with_user(EntityName::Default),
///                    values: [(QuotaKey::ProducerByteRate, 1e9)].into_iter().collect() },
/// ];
/// let r = resolve(&state, "arn:aws:sts::1:assumed-role/R/s-123", "app");
/// let p = r.keys.iter().find(|k| k.key == QuotaKey::ProducerByteRate).unwrap();
/// assert_eq!(p.value, Some(1e6));
/// assert_eq!(p.source.as_ref().unwrap().level, 4);
/// ```
pub fn resolve(state: &[EntityQuotas], user: &str, client_id: &str) -> Resolution {
    let chain = precedence_chain(user, client_id);
    let keys = [
        QuotaKey::ProducerByteRate,
        QuotaKey::ConsumerByteRate,
        QuotaKey::RequestPercentage,
        QuotaKey::ControllerMutationRate,
    ];
    let keys = keys
        .into_iter()
        .map(|key| {
            for (level, entity, sharing) in &chain {
                if let Some(v) = lookup(state, entity, &key) {
                    return ResolvedKey {
                        key,
                        value: Some(v),
                        source: Some(Source {
                            level: *level,
                            entity: entity.clone(),
                            sharing: *sharing,
                        }),
                    };
                }
            }
            ResolvedKey {
                key,
                value: None,
                source: None,
            }
        })
        .collect();
    Resolution { keys }
}

/// Resolves the connection-creation quota for an IP: exact ip, then the default ip, else
/// unlimited. IP names are compared as addresses when both parse (`::1` equals `0:0::1`).
pub fn resolve_ip(state: &[EntityQuotas], ip: &str) -> Resolution {
    let key = QuotaKey::ConnectionCreationRate;
    let wanted: Option<IpAddr> = ip.parse().ok();
    let exact = state.iter().find(|eq| {
        eq.entity.user.is_none()
            && eq.entity.client_id.is_none()
            && match &eq.entity.ip {
                Some(EntityName::Named(n)) => {
                    n == ip || (wanted.is_some() && n.parse::<IpAddr>().ok() == wanted)
                }
                _ => false,
            }
            && eq.values.contains_key(&key)
    });
    let default = Entity::new().with_ip(EntityName::Default);
    let resolved = if let Some(eq) = exact {
        ResolvedKey {
            value: eq.values.get(&key).copied(),
            source: Some(Source {
                level: 1,
                entity: eq.entity.clone(),
                sharing: Sharing::PerIp,
            }),
            key,
        }
    } else if let Some(v) = lookup(state, &default, &key) {
        ResolvedKey {
            key,
            value: Some(v),
            source: Some(Source {
                level: 2,
                entity: default,
                sharing: Sharing::PerIp,
            }),
        }
    } else {
        ResolvedKey {
            key,
            value: None,
            source: None,
        }
    };
    Resolution {
        keys: vec![resolved],
    }
}

fn lookup(state: &[EntityQuotas], entity: &Entity, key: &QuotaKey) -> Option<f64> {
    state
        .iter()
        .find(|eq| &eq.entity == entity)
        .and_then(|eq| eq.values.get(key).copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eq(entity: Entity, v: f64) -> EntityQuotas {
        EntityQuotas {
            entity,
            values: [(QuotaKey::ProducerByteRate, v)].into_iter().collect(),
        }
    }

    /// Table test over all eight levels: start with every level set (value = level), then remove
    /// the most specific one at a time and check the next level wins.
    #[test]
    fn all_eight_levels_in_order() {
        let user =
            "arn:aws:sts::111111111111:assumed-role/Topic-B-Write-Role/producerapp-1-role-session";
        let cid = "producerapp-1-client-id";
        let chain = precedence_chain(user, cid);
        let mut state: Vec<EntityQuotas> = chain
            .iter()
            .map(|(level, e, _)| eq(e.clone(), *level as f64 * 1000.0))
            .collect();
        // Noise: other users and clients must never match.
        state.push(eq(Entity::new().with_user(EntityName::named("other")), 1.0));
        state.push(eq(
            Entity::new().with_client_id(EntityName::named("other")),
            2.0,
        ));
        state.push(eq(
            Entity::new().with_user(EntityName::named("<default>")),
            3.0,
        ));
        for level in 1..=8u8 {
            let r = resolve(&state, user, cid);
            let p = &r.keys[0];
            assert_eq!(p.key, QuotaKey::ProducerByteRate);
            assert_eq!(p.value, Some(level as f64 * 1000.0), "level {level}");
            let src = p.source.as_ref().unwrap();
            assert_eq!(src.level, level);
            assert_eq!(src.entity, chain[level as usize - 1].1);
            let expected_sharing = match level {
                1 | 2 | 4 | 5 => Sharing::PerUserAndClientId,
                3 | 6 => Sharing::AllClientIdsOfUser,
                _ => Sharing::AllUsersOfClientId,
            };
            assert_eq!(src.sharing, expected_sharing);
            state.retain(|s| s.entity != chain[level as usize - 1].1);
        }
        let r = resolve(&state, user, cid);
        assert_eq!(r.keys[0].value, None);
        assert!(r.keys[0].source.is_none());
    }

    #[test]
    fn keys_resolve_independently() {
        let state = vec![
            EntityQuotas {
                entity: Entity::new().with_user(EntityName::named("u")),
                values: [(QuotaKey::ProducerByteRate, 10.0)].into_iter().collect(),
            },
            EntityQuotas {
                entity: Entity::new().with_client_id(EntityName::named("c")),
                values: [
                    (QuotaKey::ProducerByteRate, 20.0),
                    (QuotaKey::ConsumerByteRate, 30.0),
                ]
                .into_iter()
                .collect(),
            },
        ];
        let r = resolve(&state, "u", "c");
        assert_eq!(r.keys[0].value, Some(10.0));
        assert_eq!(r.keys[0].source.as_ref().unwrap().level, 3);
        assert_eq!(r.keys[1].value, Some(30.0));
        assert_eq!(r.keys[1].source.as_ref().unwrap().level, 7);
        assert_eq!(r.keys[2].value, None);
    }

    #[test]
    fn ip_resolution() {
        let state = vec![
            EntityQuotas {
                entity: Entity::new().with_ip(EntityName::named("::1")),
                values: [(QuotaKey::ConnectionCreationRate, 5.0)]
                    .into_iter()
                    .collect(),
            },
            EntityQuotas {
                entity: Entity::new().with_ip(EntityName::Default),
                values: [(QuotaKey::ConnectionCreationRate, 50.0)]
                    .into_iter()
                    .collect(),
            },
        ];
        let r = resolve_ip(&state, "0:0::1");
        assert_eq!(r.keys[0].value, Some(5.0));
        assert_eq!(r.keys[0].source.as_ref().unwrap().level, 1);
        let r = resolve_ip(&state, "10.1.1.1");
        assert_eq!(r.keys[0].value, Some(50.0));
        assert_eq!(r.keys[0].source.as_ref().unwrap().level, 2);
        assert_eq!(resolve_ip(&[], "10.1.1.1").keys[0].value, None);
    }
}
