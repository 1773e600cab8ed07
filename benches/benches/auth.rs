//! Authentication CPU cost per connection:
//! - SCRAM-SHA-256/512 client side of one exchange (client-first, then the client proof from the
//!   server-first message: PBKDF2 with 4 096 iterations, Kafka's minimum and default), using the
//!   RFC 7677 §3 example exchange;
//! - MSK IAM: the OAUTHBEARER token (SigV4 presigned URL, base64url) and the AWS_MSK_IAM JSON
//!   payload, with static credentials (the signing alone, no credential lookup).

use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, Criterion};
use kquota_iam::{msk_iam_payload, oauth_token, Credentials, SignOptions};
use kquota_net::sasl::scram::ScramClient;
use kquota_net::{SaslSession, SaslStep, ScramMechanism};

/// RFC 7677 §3: client nonce and the server-first message for user "user", password "pencil".
const CLIENT_NONCE: &str = "rOprNGfwEbeRWgbNEkqO";
const SERVER_FIRST: &[u8] =
    b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
/// RFC 7677 §3: the client-final message the exchange above must produce (SHA-256).
const CLIENT_FINAL_SHA256: &[u8] = b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";

fn scram_proof(mechanism: ScramMechanism) -> Vec<u8> {
    let mut c = ScramClient::with_nonce(
        mechanism,
        "user",
        String::from("pencil").into(),
        CLIENT_NONCE.to_string(),
    );
    let first = c.initial_response().expect("client-first");
    black_box(first);
    match c.step(SERVER_FIRST).expect("client-final") {
        SaslStep::Respond(m) => m,
        SaslStep::Done => panic!("SCRAM finished after the server-first message"),
    }
}

fn bench_auth(c: &mut Criterion) {
    // The bench computes what RFC 7677 says it should.
    assert_eq!(scram_proof(ScramMechanism::Sha256), CLIENT_FINAL_SHA256);

    let mut g = c.benchmark_group("scram_client_proof");
    g.bench_function("sha256_4096", |b| {
        b.iter(|| black_box(scram_proof(ScramMechanism::Sha256)))
    });
    g.bench_function("sha512_4096", |b| {
        b.iter(|| black_box(scram_proof(ScramMechanism::Sha512)))
    });
    g.finish();

    // AWS's documented example key pair; a fixed signing time keeps every iteration identical.
    let creds = Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        Some("FwoGZXIvYXdzEXAMPLESESSIONTOKEN".to_string()),
        None,
    )
    .expect("credentials");
    let opts = SignOptions::new("us-east-1")
        .signing_time(UNIX_EPOCH + Duration::from_secs(1_705_322_096))
        .user_agent("kquota-bench");
    let host = "b-1.demo.abc123.c2.kafka.us-east-1.amazonaws.com";
    let mut g = c.benchmark_group("msk_iam_sign");
    g.bench_function("oauthbearer_token", |b| {
        b.iter(|| black_box(oauth_token(black_box(&creds), &opts).expect("token")))
    });
    g.bench_function("aws_msk_iam_payload", |b| {
        b.iter(|| black_box(msk_iam_payload(black_box(&creds), host, &opts).expect("payload")))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench_auth
}
criterion_main!(benches);
