//! Effective-quota resolution (`kquota_admin::resolve`, behind `kquota quotas resolve`) over a
//! cluster state of 10 000 stored entities, the size of a large multi-tenant MSK cluster:
//! - `exact_pair`: the (user, client-id) entity itself sets every key (level 1);
//! - `user_default`: only the `<default>` user entity matches (level 6), so every more
//!   specific level is looked up first;
//! - `unlimited`: nothing matches, the whole 8-level chain is searched for every key.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kquota_admin::{resolve, Entity, EntityName, EntityQuotas, QuotaKey};

const ENTITIES: usize = 10_000;

fn user(i: usize) -> String {
    format!("arn:aws:sts::111111111111:assumed-role/Tenant-{i}-Role/app-{i}-role-session")
}

/// 10 000 entities: (user, client-id) pairs, user-only and client-only entities, as tenants
/// with per-app quotas and per-tenant ceilings would have.
fn state(with_default_user: bool) -> Vec<EntityQuotas> {
    let mut s: Vec<EntityQuotas> = (0..ENTITIES)
        .map(|i| {
            let entity = match i % 4 {
                0 | 1 => Entity::new()
                    .with_user(EntityName::named(user(i)))
                    .with_client_id(EntityName::named(format!("app-{i}-client-id"))),
                2 => Entity::new().with_user(EntityName::named(user(i))),
                _ => Entity::new().with_client_id(EntityName::named(format!("app-{i}-client-id"))),
            };
            EntityQuotas {
                entity,
                values: [
                    (QuotaKey::ProducerByteRate, 1024.0 * i as f64),
                    (QuotaKey::ConsumerByteRate, 2048.0 * i as f64),
                    (QuotaKey::RequestPercentage, 50.0),
                    (QuotaKey::ControllerMutationRate, 10.0),
                ]
                .into_iter()
                .collect(),
            }
        })
        .collect();
    if with_default_user {
        s.push(EntityQuotas {
            entity: Entity::new().with_user(EntityName::Default),
            values: [(QuotaKey::ProducerByteRate, 1e6)].into_iter().collect(),
        });
    }
    s
}

fn bench_resolve(c: &mut Criterion) {
    let st = state(true);
    // Sanity: the cases resolve where the doc comment says.
    let exact = resolve(&st, &user(4_000), "app-4000-client-id");
    assert_eq!(exact.keys[0].source.as_ref().map(|s| s.level), Some(1));
    let dflt = resolve(&st, "User:nobody", "nobody-client");
    assert_eq!(dflt.keys[0].source.as_ref().map(|s| s.level), Some(6));
    let st_nodefault = state(false);
    let none = resolve(&st_nodefault, "User:nobody", "nobody-client");
    assert!(none.keys.iter().all(|k| k.value.is_none()));

    let mut g = c.benchmark_group("quota_resolve_10000_entities");
    g.throughput(Throughput::Elements(1));
    let u = user(4_000);
    g.bench_function("exact_pair", |b| {
        b.iter(|| black_box(resolve(black_box(&st), &u, "app-4000-client-id")))
    });
    g.bench_function("user_default", |b| {
        b.iter(|| black_box(resolve(black_box(&st), "User:nobody", "nobody-client")))
    });
    g.bench_function("unlimited", |b| {
        b.iter(|| {
            black_box(resolve(
                black_box(&st_nodefault),
                "User:nobody",
                "nobody-client",
            ))
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench_resolve
}
criterion_main!(benches);
