//! Every listener and SASL mechanism of a testkit cluster, exercised against the real broker with
//! raw protocol exchanges (one shared single-node cluster for this test binary).

mod common;

use common::{Conn, SASL_AUTHENTICATION_FAILED, TOPIC_AUTHORIZATION_FAILED};
use kquota_testkit::{shared, sign_iam_token, KafkaCluster, Listener};

fn addr(c: &KafkaCluster, l: Listener) -> std::net::SocketAddr {
    c.brokers()[0].addr(l)
}

fn sasl_conn(c: &KafkaCluster, l: Listener) -> Conn {
    match l {
        Listener::SaslPlaintext => Conn::plain(addr(c, l)),
        Listener::SaslSsl => Conn::tls(addr(c, l), c.ca_pem_path(), None),
        _ => unreachable!("not a SASL listener"),
    }
}

#[test]
fn plaintext_answers_api_versions() {
    let c = shared();
    let n = Conn::plain(addr(c, Listener::Plaintext))
        .api_versions()
        .unwrap();
    assert!(n > 40, "broker lists {n} APIs");
}

#[test]
fn ssl_answers_api_versions_with_the_testkit_ca() {
    let c = shared();
    let n = Conn::tls(addr(c, Listener::Ssl), c.ca_pem_path(), None)
        .api_versions()
        .unwrap();
    assert!(n > 40);
}

#[test]
fn sasl_listeners_accept_plain_then_serve_api_versions() {
    let c = shared();
    let creds = c.credentials();
    for l in [Listener::SaslPlaintext, Listener::SaslSsl] {
        for u in &creds.plain_users {
            let mut conn = sasl_conn(c, l);
            conn.sasl_plain(&u.user, &u.password)
                .unwrap_or_else(|e| panic!("{l} PLAIN {}: {e:?}", u.user));
            assert!(conn.api_versions().unwrap() > 40, "{l}");
        }
    }
}

#[test]
fn sasl_listeners_accept_scram_sha_256_and_512() {
    let c = shared();
    let creds = c.credentials();
    for l in [Listener::SaslPlaintext, Listener::SaslSsl] {
        for sha512 in [false, true] {
            for u in &creds.scram_users {
                let mut conn = sasl_conn(c, l);
                conn.sasl_scram(sha512, &u.user, &u.password)
                    .unwrap_or_else(|e| panic!("{l} SCRAM sha512={sha512} {}: {e:?}", u.user));
                assert!(conn.api_versions().unwrap() > 40);
            }
        }
    }
}

#[test]
fn plain_with_a_wrong_password_is_refused() {
    let c = shared();
    let mut conn = sasl_conn(c, Listener::SaslPlaintext);
    let (code, msg) = conn.sasl_plain("alice", "not-alices-password").unwrap_err();
    assert_eq!(code, SASL_AUTHENTICATION_FAILED, "{msg}");
    assert!(msg.contains("Invalid username or password"), "{msg}");
    let mut conn = sasl_conn(c, Listener::SaslSsl);
    let (code, _) = conn.sasl_plain("nobody", "x").unwrap_err();
    assert_eq!(code, SASL_AUTHENTICATION_FAILED);
}

#[test]
fn scram_with_a_wrong_password_is_refused() {
    let c = shared();
    for sha512 in [false, true] {
        let mut conn = sasl_conn(c, Listener::SaslPlaintext);
        let (code, msg) = conn.sasl_scram(sha512, "bob", "wrong").unwrap_err();
        assert_eq!(code, SASL_AUTHENTICATION_FAILED, "{msg}");
        let mut conn = sasl_conn(c, Listener::SaslSsl);
        let (code, _) = conn.sasl_scram(sha512, "nobody", "bob-secret").unwrap_err();
        assert_eq!(code, SASL_AUTHENTICATION_FAILED);
    }
}

/// A token from the independent Java signer authenticates, and the principal is the ARN: an ACL
/// for exactly that ARN lets it see a topic that another IAM identity may not see.
#[test]
fn iam_token_authenticates_as_the_arn_principal() {
    let c = shared();
    let creds = c.credentials();
    let producer = creds.iam_by_name("producerapp-1").unwrap();
    let consumer = creds.iam_by_name("consumerapp-1").unwrap();
    let topic = "testkit-iam-principal";
    let mut admin = sasl_conn(c, Listener::SaslPlaintext);
    admin
        .sasl_plain(&creds.admin.user, &creds.admin.password)
        .unwrap();
    let created = admin.create_topic(topic, 1, 1);
    assert!(
        created == 0 || created == 36,
        "create topic error {created}"
    );
    let principal = format!("User:{}", producer.principal_arn);
    assert_eq!(admin.allow_topic(&principal, topic, 8), 0);

    for l in [Listener::SaslPlaintext, Listener::SaslSsl] {
        let token = sign_iam_token(producer, "us-east-1", None).unwrap();
        let mut conn = sasl_conn(c, l);
        let resp = conn.sasl_oauthbearer(&token).unwrap();
        // MSK-like: the SASL session ends when the token (900 s) does.
        assert!(
            (800_000..=900_000).contains(&resp.session_lifetime_ms),
            "{}",
            resp.session_lifetime_ms
        );
        assert!(conn.api_versions().unwrap() > 40);
        // ACLs are applied when the broker has seen the metadata record: poll briefly.
        let mut err = -1;
        for _ in 0..50 {
            err = conn.topic_error(topic);
            if err == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert_eq!(
            err, 0,
            "{l}: the producer ARN is allowed to describe {topic}"
        );

        let token = sign_iam_token(consumer, "eu-west-2", None).unwrap();
        let mut other = sasl_conn(c, l);
        other.sasl_oauthbearer(&token).unwrap();
        assert_eq!(
            other.topic_error(topic),
            TOPIC_AUTHORIZATION_FAILED,
            "{l}: another ARN has no ACL"
        );
    }
}

#[test]
fn iam_token_with_a_wrong_signature_is_refused() {
    let c = shared();
    let creds = c.credentials();
    let mut id = creds.iam_by_name("producerapp-1").unwrap().clone();
    id.secret_access_key.push('x'); // signed with the wrong secret
    let token = sign_iam_token(&id, "us-east-1", None).unwrap();
    let mut conn = sasl_conn(c, Listener::SaslPlaintext);
    let (code, msg) = conn.sasl_oauthbearer(&token).unwrap_err();
    assert_eq!(code, SASL_AUTHENTICATION_FAILED, "{msg}");
    assert!(msg.contains("signature does not match"), "{msg}");
}

#[test]
fn iam_token_that_expired_is_refused() {
    let c = shared();
    let creds = c.credentials();
    let id = creds.iam_by_name("iam-user").unwrap();
    let hour_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        - 3_600_000;
    let token = sign_iam_token(id, "us-east-1", Some(&hour_ago.to_string())).unwrap();
    let mut conn = sasl_conn(c, Listener::SaslSsl);
    let (code, msg) = conn.sasl_oauthbearer(&token).unwrap_err();
    assert_eq!(code, SASL_AUTHENTICATION_FAILED, "{msg}");
    assert!(msg.contains("token expired"), "{msg}");
}

#[test]
fn iam_identity_registered_at_run_time_is_accepted() {
    let c = shared();
    let arn = "arn:aws:sts::123456789012:assumed-role/Moto-Role/registered-session";
    let id = c
        .register_iam_credentials(
            "ASIATESTKITREGISTER1",
            "registered/secret+key",
            Some("tok/en+=="),
            arn,
        )
        .unwrap();
    assert!(c.credentials().iam.iter().any(|i| i.principal_arn == arn));
    let token = sign_iam_token(&id, "ap-southeast-2", None).unwrap();
    let mut conn = sasl_conn(c, Listener::SaslPlaintext);
    conn.sasl_oauthbearer(&token).unwrap();
    assert!(conn.api_versions().unwrap() > 40);
    // Without the session token the same key is refused.
    let mut no_token = id.clone();
    no_token.session_token = None;
    let token = sign_iam_token(&no_token, "ap-southeast-2", None).unwrap();
    let mut conn = sasl_conn(c, Listener::SaslPlaintext);
    let (_, msg) = conn.sasl_oauthbearer(&token).unwrap_err();
    assert!(msg.contains("X-Amz-Security-Token"), "{msg}");
}

#[test]
fn kafka_tool_and_admin_properties_work_on_every_listener() {
    let c = shared();
    for l in Listener::ALL {
        let props = c.admin_properties(l).unwrap();
        let out = c
            .kafka_tool("kafka.admin.ConfigCommand")
            .args(["--bootstrap-server", &c.bootstrap(l)])
            .arg("--command-config")
            .arg(&props)
            .args([
                "--describe",
                "--entity-type",
                "brokers",
                "--entity-name",
                "1",
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("configs for broker 1"),
            "{l}: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn secrets_stay_out_of_debug_output_and_json_round_trips() {
    let c = shared();
    let creds = c.credentials();
    let dbg = format!("{creds:?} {c:?}");
    assert!(!dbg.contains(&creds.admin.password), "{dbg}");
    for i in &creds.iam {
        assert!(!dbg.contains(&i.secret_access_key));
        if let Some(t) = &i.session_token {
            assert!(!dbg.contains(t.as_str()));
        }
    }
    let json: serde_json::Value = serde_json::from_str(&c.to_json()).unwrap();
    assert_eq!(
        json["bootstrap"]["SASL_SSL"],
        c.bootstrap(Listener::SaslSsl)
    );
    let path = c.dir().join("attach-test.json");
    std::fs::write(&path, c.to_json()).unwrap();
    let attached = KafkaCluster::attach(&path).unwrap();
    assert_eq!(
        attached.bootstrap(Listener::Plaintext),
        c.bootstrap(Listener::Plaintext)
    );
    assert!(
        attached.stop_broker(1).is_err(),
        "an attached cluster is not ours to stop"
    );
}
