//! `kquota quotas describe | alter | delete | resolve | plan | apply | export`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use kquota_admin::{
    diff, name_warnings, parse_value, resolve, resolve_ip, validate_alterations, AdminError,
    AlterStep, Alteration, Component, Entity, EntityName, EntityQuotas, EntityType, Filter, Format,
    Match, Op, Plan, QuotaFile, QuotaKey, Resolution,
};
use serde_json::json;

use crate::backend::{self, Admin, AlterResult};
use crate::cmd::configs::{self, Action, Invocation};
use crate::connect::ConnectArgs;
use crate::exit;
use crate::interrupt::{self, Claim};
use crate::output::{self, entity_json, OutputFormat};

/// `kquota quotas`.
#[derive(Args, Debug)]
pub struct QuotasArgs {
    /// Output format [default: table]. For `export`, `-o json` writes the quota file as JSON
    /// (like `--format json`).
    #[arg(long, short = 'o', value_enum, global = true)]
    pub output: Option<OutputFormat>,

    #[command(subcommand)]
    pub command: QuotasCommand,
}

/// The quota subcommands.
#[derive(Subcommand, Debug)]
pub enum QuotasCommand {
    /// Show stored quotas (all, or filtered by entity).
    Describe(DescribeArgs),
    /// Set and/or remove keys on one entity.
    Alter(AlterArgs),
    /// Remove keys (all set keys by default) from one entity, deleting it.
    Delete(DeleteArgs),
    /// Effective quota for a (user principal, client-id) pair or an ip, with its source.
    Resolve(ResolveArgs),
    /// Show what `apply` would change to make the cluster match a file.
    Plan(PlanArgs),
    /// Make the cluster match a file.
    Apply(PlanArgs),
    /// Write the cluster's quotas in the file format (export then apply is a no-op).
    Export(ExportArgs),
}

/// Types for `--default` / `--any`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TypeArg {
    /// user
    User,
    /// client-id
    ClientId,
    /// ip
    Ip,
}

impl From<TypeArg> for EntityType {
    fn from(t: TypeArg) -> EntityType {
        match t {
            TypeArg::User => EntityType::User,
            TypeArg::ClientId => EntityType::ClientId,
            TypeArg::Ip => EntityType::Ip,
        }
    }
}

/// One entity: names and/or defaults.
#[derive(Args, Debug, Clone, Default)]
pub struct EntityArgs {
    /// User principal name (without `User:`), e.g. an assumed-role session ARN.
    #[arg(long, value_name = "PRINCIPAL")]
    pub user: Option<String>,
    /// Client id.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// IP address or host.
    #[arg(long, value_name = "IP")]
    pub ip: Option<String>,
    /// The default entity of a type (null on the wire); repeatable. `--user '<default>'` is a
    /// user literally named `<default>`.
    #[arg(long = "default", value_enum, value_name = "TYPE")]
    pub defaults: Vec<TypeArg>,
}

impl EntityArgs {
    /// Builds and validates the entity.
    pub fn entity(&self) -> anyhow::Result<Entity> {
        let mut e = Entity::new();
        for (t, n) in [
            (EntityType::User, &self.user),
            (EntityType::ClientId, &self.client_id),
            (EntityType::Ip, &self.ip),
        ] {
            if let Some(n) = n {
                e.set(t, EntityName::named(n.clone()));
            }
        }
        for d in &self.defaults {
            let t: EntityType = (*d).into();
            if e.set(t, EntityName::Default).is_some() {
                return Err(exit::usage(format!(
                    "--default {t} conflicts with another {t} given for the same entity"
                )));
            }
        }
        kquota_admin::validate_entity(&e)?;
        for w in name_warnings(&e) {
            eprintln!("warning: {w}");
        }
        Ok(e)
    }

    fn is_empty(&self) -> bool {
        self.user.is_none()
            && self.client_id.is_none()
            && self.ip.is_none()
            && self.defaults.is_empty()
    }
}

/// `describe`.
#[derive(Args, Debug)]
pub struct DescribeArgs {
    #[command(flatten)]
    pub entity: EntityArgs,
    /// Match any entity that has this type (named or default); repeatable.
    #[arg(long, value_enum, value_name = "TYPE")]
    pub any: Vec<TypeArg>,
    /// Only entities with exactly the filtered types (kafka-configs semantics).
    #[arg(long)]
    pub strict: bool,
    /// Ask this broker id (each broker answers from its own metadata cache).
    #[arg(long, value_name = "ID")]
    pub broker: Option<i32>,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `alter`.
#[derive(Args, Debug)]
pub struct AlterArgs {
    #[command(flatten)]
    pub entity: EntityArgs,
    /// key=value to set; repeatable or comma separated (producer_byte_rate=1024,consumer_byte_rate=2048).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Key to remove; repeatable or comma separated.
    #[arg(long = "remove", value_name = "KEY")]
    pub remove: Vec<String>,
    /// Ask the broker to validate only; nothing changes.
    #[arg(long)]
    pub validate_only: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `delete`.
#[derive(Args, Debug)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub entity: EntityArgs,
    /// Only these keys (default: every key the entity has).
    #[arg(long = "key", value_name = "KEY")]
    pub keys: Vec<String>,
    /// Accept keys (or an entity) with nothing set: a warning instead of an error.
    #[arg(long)]
    pub if_exists: bool,
    /// Ask the broker to validate only; nothing changes.
    #[arg(long)]
    pub validate_only: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `resolve`.
#[derive(Args, Debug)]
pub struct ResolveArgs {
    /// The authenticated principal name (for MSK IAM the assumed-role session ARN).
    #[arg(
        long,
        value_name = "PRINCIPAL",
        requires = "client_id",
        conflicts_with = "ip"
    )]
    pub user: Option<String>,
    /// The client.id the client presents.
    #[arg(long, value_name = "ID", requires = "user")]
    pub client_id: Option<String>,
    /// Resolve the connection-creation quota of this IP instead.
    #[arg(long, value_name = "IP")]
    pub ip: Option<String>,
    /// Resolve against a quota file instead of the cluster.
    #[arg(long, value_name = "FILE")]
    pub from_file: Option<PathBuf>,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `plan` and `apply`.
#[derive(Args, Debug)]
pub struct PlanArgs {
    /// Desired quotas (YAML, or JSON when the name ends in .json).
    #[arg(long, short = 'f', value_name = "FILE")]
    pub file: PathBuf,
    /// Also delete entities that the file does not list.
    #[arg(long)]
    pub prune: bool,
    /// (apply) Validate on the broker only; nothing changes.
    #[arg(long)]
    pub validate_only: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Write to this file instead of stdout.
    #[arg(long, short = 'f', value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// File format (default: json with `-o json`, else from the file name: json for a .json
    /// name, else yaml). YAML into a .json file is refused: `plan -f` reads .json as JSON.
    #[arg(long, value_enum)]
    pub format: Option<FileFormatArg>,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// Quota file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FileFormatArg {
    /// YAML.
    Yaml,
    /// JSON.
    Json,
}

/// Runs `kquota quotas ...`.
pub async fn run(args: QuotasArgs) -> anyhow::Result<()> {
    let out = args.output.unwrap_or_default();
    match args.command {
        QuotasCommand::Describe(a) => describe(a, out).await,
        QuotasCommand::Alter(a) => alter(a, out).await,
        QuotasCommand::Delete(a) => delete(a, out).await,
        QuotasCommand::Resolve(a) => resolve_cmd(a, out).await,
        QuotasCommand::Plan(a) => plan_cmd(a, out, false).await,
        QuotasCommand::Apply(a) => plan_cmd(a, out, true).await,
        QuotasCommand::Export(a) => export(a, args.output).await,
    }
}

async fn connect(args: &ConnectArgs) -> anyhow::Result<Admin> {
    let settings = args.settings_with_warnings()?;
    backend::connect(&settings).await
}

fn describe_filter(a: &DescribeArgs) -> anyhow::Result<Filter> {
    let mut components = Vec::new();
    let mut push = |t: EntityType, m: Match| -> anyhow::Result<()> {
        if components.iter().any(|c: &Component| c.entity_type == t) {
            return Err(exit::usage(format!("{t} is filtered twice")));
        }
        components.push(Component {
            entity_type: t,
            matching: m,
        });
        Ok(())
    };
    for (t, n) in [
        (EntityType::User, &a.entity.user),
        (EntityType::ClientId, &a.entity.client_id),
        (EntityType::Ip, &a.entity.ip),
    ] {
        if let Some(n) = n {
            if n.is_empty() {
                return Err(exit::usage(format!(
                    "empty {t} name; use --default {t} for the default entity"
                )));
            }
            push(t, Match::Exact(n.clone()))?;
        }
    }
    for d in &a.entity.defaults {
        push((*d).into(), Match::Default)?;
    }
    for t in &a.any {
        push((*t).into(), Match::Any)?;
    }
    let has_ip = components.iter().any(|c| c.entity_type == EntityType::Ip);
    if has_ip && components.len() > 1 {
        return Err(exit::usage(
            "an ip filter cannot be combined with user or client-id",
        ));
    }
    Ok(Filter {
        components,
        strict: a.strict,
    })
}

async fn describe(a: DescribeArgs, out: OutputFormat) -> anyhow::Result<()> {
    let filter = describe_filter(&a)?;
    let admin = connect(&a.connect).await?;
    let result = admin.describe(&filter, a.broker).await?;
    print_quotas(&result, out);
    Ok(())
}

fn print_quotas(result: &[EntityQuotas], out: OutputFormat) {
    match out {
        OutputFormat::Json => println!("{}", output::quotas_json(result)),
        OutputFormat::Table => print!("{}", output::quotas_table(result)),
    }
}

fn split_list(items: &[String]) -> Vec<String> {
    items
        .iter()
        .flat_map(|s| s.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Builds the ops of `alter` from `--set`/`--remove`.
pub fn alter_ops(entity: &Entity, set: &[String], remove: &[String]) -> anyhow::Result<Vec<Op>> {
    let mut ops = Vec::new();
    for kv in split_list(set) {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| exit::usage(format!("--set '{kv}': expected KEY=VALUE")))?;
        let value = parse_value(Some(entity), k.trim(), v)?;
        ops.push(Op::Set(QuotaKey::from_name(k.trim()), value));
    }
    for k in split_list(remove) {
        ops.push(Op::Remove(QuotaKey::from_name(&k)));
    }
    if ops.is_empty() {
        return Err(exit::usage(
            "nothing to change: give --set KEY=VALUE and/or --remove KEY",
        ));
    }
    Ok(ops)
}

/// The keys `entity` has now (exactly that entity, not a wider match).
async fn current_keys(admin: &Admin, entity: &Entity) -> anyhow::Result<Vec<QuotaKey>> {
    Ok(admin
        .describe(&Filter::exact_entity(entity), None)
        .await?
        .into_iter()
        .filter(|eq| &eq.entity == entity)
        .flat_map(|eq| eq.values.into_iter().map(|(k, _)| k))
        .collect())
}

fn key_list(keys: &[&QuotaKey]) -> String {
    keys.iter().map(|k| k.name()).collect::<Vec<_>>().join(",")
}

async fn alter(a: AlterArgs, out: OutputFormat) -> anyhow::Result<()> {
    if a.entity.is_empty() {
        return Err(exit::usage(
            "no entity: give --user, --client-id, --ip and/or --default TYPE",
        ));
    }
    let entity = a.entity.entity()?;
    let ops = alter_ops(&entity, &a.set, &a.remove)?;
    let alts = vec![Alteration { entity, ops }];
    validate_alterations(&alts)?;
    let claim = interrupt::claim(nothing_changed);
    let before = async {
        let admin = connect(&a.connect).await?;
        // Removing a key that is not set changes nothing (the broker accepts it): say so, since
        // it usually means a mistyped entity.
        let removes: Vec<&QuotaKey> = alts[0]
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::Remove(k) => Some(k),
                _ => None,
            })
            .collect();
        if !removes.is_empty() {
            let have = current_keys(&admin, &alts[0].entity).await?;
            let unset: Vec<&QuotaKey> = removes.into_iter().filter(|k| !have.contains(k)).collect();
            if !unset.is_empty() {
                eprintln!(
                    "warning: entity {} has no quota for {}; removing it changes nothing",
                    alts[0].entity,
                    key_list(&unset)
                );
            }
        }
        Ok(admin)
    };
    let admin = claim.unless_interrupted(before, NOTHING_CHANGED).await?;
    let check = describe_command(&alts[0].entity);
    let sent = send_changes(&admin, &claim, &alts, a.validate_only, "alter", &check).await;
    report_sent(sent, a.validate_only, out, &check)
}

async fn delete(a: DeleteArgs, out: OutputFormat) -> anyhow::Result<()> {
    if a.entity.is_empty() {
        return Err(exit::usage(
            "no entity: give --user, --client-id, --ip and/or --default TYPE",
        ));
    }
    let entity = a.entity.entity()?;
    let asked: Vec<QuotaKey> = split_list(&a.keys)
        .iter()
        .map(|k| QuotaKey::from_name(k))
        .collect();
    // Checked before connecting: an unknown key is a usage error whatever is stored.
    validate_alterations(&[Alteration {
        entity: entity.clone(),
        ops: asked.iter().cloned().map(Op::Remove).collect(),
    }])?;
    let claim = interrupt::claim(nothing_changed);
    let (admin, have) = claim
        .unless_interrupted(
            async {
                let admin = connect(&a.connect).await?;
                let have = current_keys(&admin, &entity).await?;
                Ok((admin, have))
            },
            NOTHING_CHANGED,
        )
        .await?;
    // Deleting what is not there is an error (like `topics delete`), unless --if-exists.
    let keys: Vec<QuotaKey> = if asked.is_empty() {
        if have.is_empty() {
            let msg = format!("entity {entity} has no quotas to delete");
            if !a.if_exists {
                return Err(exit::usage(format!(
                    "{msg}; add --if-exists to accept that"
                )));
            }
            eprintln!("warning: {msg}");
        }
        have
    } else {
        let unset: Vec<&QuotaKey> = asked.iter().filter(|k| !have.contains(k)).collect();
        if !unset.is_empty() {
            let msg = format!("entity {entity} has no quota for {}", key_list(&unset));
            if !a.if_exists {
                let set = if have.is_empty() {
                    "no quota at all".to_string()
                } else {
                    key_list(&have.iter().collect::<Vec<_>>())
                };
                return Err(exit::usage(format!(
                    "{msg} (it has {set}); nothing was changed; add --if-exists to accept that"
                )));
            }
            eprintln!("warning: {msg}; nothing to delete there");
        }
        asked.into_iter().filter(|k| have.contains(k)).collect()
    };
    if keys.is_empty() {
        // --if-exists and nothing set: nothing to send.
        let results = [AlterResult {
            entity,
            error: None,
        }];
        return report_alter(&results, a.validate_only, out);
    }
    let check = describe_command(&entity);
    let alts = vec![Alteration {
        entity,
        ops: keys.into_iter().map(Op::Remove).collect(),
    }];
    validate_alterations(&alts)?;
    let sent = send_changes(&admin, &claim, &alts, a.validate_only, "delete", &check).await;
    report_sent(sent, a.validate_only, out, &check)
}

/// The line of an interruption before anything was sent.
const NOTHING_CHANGED: &str = "interrupted: nothing was changed";

fn nothing_changed() -> String {
    NOTHING_CHANGED.to_string()
}

/// The `describe` command showing `entity`, for the user to check an outcome left unknown.
fn describe_command(entity: &Entity) -> String {
    let mut cmd = String::from("kquota quotas describe");
    for (t, n) in entity.components() {
        match n {
            EntityName::Default => cmd += &format!(" --default {t}"),
            EntityName::Named(name) => {
                // A name with control characters is not printed raw (nor pasted back).
                let quoted = shlex::try_quote(name)
                    .ok()
                    .filter(|_| kquota_admin::model::escape_controls(name) == name.as_str());
                match quoted {
                    Some(q) => cmd += &format!(" --{t} {q}"),
                    None => return format!("kquota quotas describe (entity {entity})"),
                }
            }
        }
    }
    cmd
}

/// Whether every broker was seen showing the change.
#[derive(Debug, Clone, PartialEq)]
enum Propagation {
    /// Not waited for: nothing was changed (validate-only, every entity failed).
    NotNeeded,
    /// Every broker shows it.
    Confirmed,
    /// These brokers did not show it within [`backend::PROPAGATION_WITHIN`].
    Lagging(Vec<i32>),
    /// Not checked to the end: interrupted, or the check failed (why).
    Unconfirmed(Option<String>),
}

/// What sending alterations ended with (see [`send_changes`]).
struct Sent {
    /// Alterations sent, in order.
    alts: Vec<Alteration>,
    /// Results of the entities whose request was answered (a prefix of `alts`).
    results: Vec<AlterResult>,
    /// Entities of the request that failed (after `results`).
    unanswered: Vec<Entity>,
    /// Entities never sent (after `unanswered`).
    not_sent: Vec<Entity>,
    /// Why a request failed; `true` when the broker refused it as a whole (its entities were
    /// not changed), `false` when their outcome is unknown.
    failure: Option<(anyhow::Error, bool)>,
    /// Ctrl-C or SIGTERM came during the run.
    interrupted: bool,
    /// Whether every broker shows the change.
    propagation: Propagation,
}

/// Sends `alts` (requests of up to 1 000 entities) and waits until every broker shows the
/// change, under `claim`:
///
/// - a first signal before a request is sent stops there: the rest is not sent;
/// - with a request outstanding, it prints one line and waits for the answer (bounded by the
///   request timeout), so what the broker did is known and reported; a second signal ends the
///   process with a line naming `check`, the command that shows the outcome;
/// - while waiting for every broker to show the change, it stops waiting: the change stands
///   (per the broker's answer), its propagation is reported unconfirmed.
///
/// A request that fails after earlier ones were answered keeps their results (`failure` says
/// why). A failure of the only request is returned as the error.
async fn send_changes(
    admin: &Admin,
    claim: &Claim,
    alts: &[Alteration],
    validate_only: bool,
    label: &str,
    check: &str,
) -> Sent {
    let in_flight = std::cell::Cell::new(false);
    let progress = |step: AlterStep| match step {
        AlterStep::Sending { .. } => {
            in_flight.set(true);
            let check = check.to_string();
            claim.on_second(move || {
                format!(
                    "interrupted again: stopped without the broker's answer; the change was sent and its outcome is unknown; check with '{check}'"
                )
            });
        }
        AlterStep::Answered {
            request,
            requests,
            answered,
            total,
        } => {
            in_flight.set(false);
            if requests > 1 {
                eprintln!(
                    "{label}: request {request} of {requests} answered ({answered} of {total} entities)"
                );
            }
        }
        _ => {}
    };
    let fut = admin.alter_until(alts, validate_only, claim.first(), progress);
    tokio::pin!(fut);
    let outcome = tokio::select! {
        biased;
        r = &mut fut => r,
        _ = claim.first() => {
            if in_flight.get() {
                eprintln!("{}", interrupt::WAITING);
            }
            fut.await
        }
    };
    let mut sent = Sent {
        alts: alts.to_vec(),
        results: Vec::new(),
        unanswered: Vec::new(),
        not_sent: Vec::new(),
        failure: None,
        interrupted: false,
        propagation: Propagation::NotNeeded,
    };
    match outcome {
        Ok(o) => {
            sent.results = o.results;
            sent.not_sent = o.not_sent;
        }
        Err(AdminError::Incomplete(i)) => {
            let rejected = i.rejected();
            let message = format!(
                "request {} of {} failed: {}",
                i.failed_request, i.requests, i.source
            );
            let error = backend::classify_as(&i.source, message);
            let i = *i;
            sent.results = i.answered;
            sent.unanswered = i.unanswered;
            sent.not_sent = i.not_sent;
            sent.failure = Some((error, rejected));
        }
        Err(e) => {
            let rejected = matches!(
                e,
                AdminError::Broker { .. } | AdminError::Unsupported { .. }
            );
            sent.unanswered = alts.iter().map(|a| a.entity.clone()).collect();
            sent.failure = Some((backend::classify(e), rejected));
        }
    }
    sent.interrupted = claim.received();
    // What the broker accepted: all of the alterations, usually (then no copy of them).
    let all_accepted =
        sent.results.len() == alts.len() && sent.results.iter().all(|r| r.error.is_none());
    let accepted: Vec<Alteration> = if all_accepted {
        Vec::new()
    } else {
        alts.iter()
            .zip(&sent.results)
            .filter(|(_, r)| r.error.is_none())
            .map(|(a, _)| a.clone())
            .collect()
    };
    let applied: &[Alteration] = if all_accepted { alts } else { &accepted };
    if validate_only || applied.is_empty() {
        return sent;
    }
    if sent.interrupted || sent.failure.is_some() {
        sent.propagation = Propagation::Unconfirmed(None);
        return sent;
    }
    sent.propagation = tokio::select! {
        biased;
        r = admin.wait_applied(applied) => match r {
            Ok(lagging) if lagging.is_empty() => Propagation::Confirmed,
            Ok(lagging) => Propagation::Lagging(lagging),
            Err(e) => Propagation::Unconfirmed(Some(exit::one_line(&e))),
        },
        _ = claim.first() => Propagation::Unconfirmed(None),
    };
    // Also a signal that came as the wait ended: the run is reported as interrupted.
    sent.interrupted = claim.received();
    sent
}

/// Prints what [`send_changes`] did, like [`report_alter`] plus the entities without a result
/// and the propagation; then the outcome: the request failure, else the interruption (exit
/// 130), else the entities that failed.
fn report_sent(
    sent: Sent,
    validate_only: bool,
    out: OutputFormat,
    check: &str,
) -> anyhow::Result<()> {
    let Sent {
        alts,
        results,
        unanswered,
        not_sent,
        failure,
        interrupted,
        propagation,
    } = sent;
    let summary = incomplete_summary(alts.len(), &results, &not_sent, validate_only);
    let (failure, rejected) = match failure {
        // The only request failed: nothing to show but the error, and whether it may have
        // been applied all the same.
        Some((e, true)) if results.is_empty() && not_sent.is_empty() => return Err(e),
        Some((e, false)) if results.is_empty() && not_sent.is_empty() => {
            let line = format!(
                "{}; the change may or may not have been applied; check with '{check}'",
                exit::one_line(&e)
            );
            return Err(exit::reclassify(&e, line));
        }
        Some((e, rejected)) => (Some(e), rejected),
        None => (None, false),
    };
    if interrupted && results.is_empty() && unanswered.is_empty() {
        return Err(exit::interrupted(NOTHING_CHANGED));
    }
    let rest = Unfinished {
        unanswered: &unanswered,
        rejected,
        not_sent: &not_sent,
        interrupted,
    };
    print_alter(&results, &rest, validate_only, out);
    propagation_warning(&propagation);
    if let Some(e) = failure {
        let fate = if rejected {
            "not changed"
        } else {
            "outcome unknown"
        };
        let line = format!(
            "{}; {summary}, {} {fate}; check with '{check}'",
            exit::one_line(&e),
            unanswered.len()
        );
        return Err(exit::reclassify(&e, line));
    }
    if interrupted {
        let mut line = format!("interrupted: {summary}");
        if !validate_only && results.iter().any(|r| r.error.is_none()) {
            line += match propagation {
                Propagation::Confirmed => "; every broker shows the change",
                _ => "; not confirmed that every broker shows the change yet",
            };
        }
        return Err(exit::interrupted(format!("{line}; check with '{check}'")));
    }
    alter_failures(&results)
}

/// `N of M entities changed, F failed, K not sent` (`validated` with --validate-only).
fn incomplete_summary(
    total: usize,
    results: &[AlterResult],
    not_sent: &[Entity],
    validate_only: bool,
) -> String {
    let ok = results.iter().filter(|r| r.error.is_none()).count();
    let failed = results.len() - ok;
    let done = if validate_only {
        "validated (nothing changed)"
    } else {
        "changed"
    };
    let mut parts = vec![format!(
        "{ok} of {} {done}",
        output::plural(total as u64, "entity")
    )];
    if failed > 0 {
        parts.push(format!("{failed} failed"));
    }
    if !not_sent.is_empty() {
        parts.push(format!("{} not sent", not_sent.len()));
    }
    parts.join(", ")
}

fn propagation_warning(p: &Propagation) {
    match p {
        Propagation::Lagging(lagging) => eprintln!(
            "warning: the change is committed, but brokers {lagging:?} did not show it within {} s",
            backend::PROPAGATION_WITHIN.as_secs()
        ),
        Propagation::Unconfirmed(Some(why)) => eprintln!(
            "warning: the change is committed, but checking that every broker shows it failed: {why}"
        ),
        _ => {}
    }
}

/// Prints per-entity results; fails (exit 3) if any entity failed.
fn report_alter(
    results: &[AlterResult],
    validate_only: bool,
    out: OutputFormat,
) -> anyhow::Result<()> {
    print_alter(results, &Unfinished::default(), validate_only, out);
    alter_failures(results)
}

/// The entities of an alter without a result: after a failed request or an interruption.
#[derive(Default)]
struct Unfinished<'a> {
    /// Entities of the request that failed.
    unanswered: &'a [Entity],
    /// The broker refused that request as a whole (else their outcome is unknown).
    rejected: bool,
    /// Entities never sent.
    not_sent: &'a [Entity],
    /// Ctrl-C or SIGTERM came.
    interrupted: bool,
}

impl Unfinished<'_> {
    fn any(&self) -> bool {
        self.interrupted || !self.unanswered.is_empty() || !self.not_sent.is_empty()
    }
}

fn print_alter(results: &[AlterResult], rest: &Unfinished, validate_only: bool, out: OutputFormat) {
    print!("{}", alter_output(results, rest, validate_only, out));
}

/// The results table (or JSON document) of an alter, with a row for each entity without a
/// result when the alter did not finish.
fn alter_output(
    results: &[AlterResult],
    rest: &Unfinished,
    validate_only: bool,
    out: OutputFormat,
) -> String {
    let unanswered_outcome = if rest.rejected {
        "not_changed"
    } else {
        "unknown"
    };
    match out {
        OutputFormat::Json => {
            let list: Vec<_> = results
                .iter()
                .map(|r| {
                    json!({
                        "entity": entity_json(&r.entity),
                        "ok": r.error.is_none(),
                        "error": r.error.as_ref().map(|e| e.code_name.clone()),
                        "message": r.error.as_ref().and_then(|e| e.message.clone()),
                    })
                })
                .collect();
            let mut doc = json!({ "validate_only": validate_only, "results": list });
            if rest.any() {
                doc["interrupted"] = json!(rest.interrupted);
                doc["unanswered"] = rest
                    .unanswered
                    .iter()
                    .map(|e| json!({ "entity": entity_json(e), "outcome": unanswered_outcome }))
                    .collect();
                doc["not_sent"] = rest.not_sent.iter().map(entity_json).collect();
            }
            format!("{doc}\n")
        }
        OutputFormat::Table => {
            let mut rows: Vec<Vec<String>> = results
                .iter()
                .map(|r| {
                    vec![
                        r.entity.to_string(),
                        match &r.error {
                            None if validate_only => "OK (validated only, nothing changed)".into(),
                            None => "OK".into(),
                            Some(e) => e.to_string(),
                        },
                    ]
                })
                .collect();
            let unanswered = if rest.rejected {
                "not changed: its request was refused (see the error)"
            } else {
                "unknown: its request got no answer (see the error)"
            };
            let not_sent = if rest.interrupted {
                "not sent (interrupted)"
            } else {
                "not sent (an earlier request failed)"
            };
            for (entities, text) in [(rest.unanswered, unanswered), (rest.not_sent, not_sent)] {
                rows.extend(
                    entities
                        .iter()
                        .map(|e| vec![e.to_string(), text.to_string()]),
                );
            }
            output::table(&["ENTITY", "RESULT"], &rows)
        }
    }
}

/// Fails (exit 3) if any entity failed.
fn alter_failures(results: &[AlterResult]) -> anyhow::Result<()> {
    let failed: Vec<&AlterResult> = results.iter().filter(|r| r.error.is_some()).collect();
    if failed.is_empty() {
        return Ok(());
    }
    let first = failed[0];
    Err(exit::broker(format!(
        "{} of {} failed; first: {}: {}",
        failed.len(),
        output::plural(results.len() as u64, "entity"),
        first.entity,
        first
            .error
            .as_ref()
            .map(|e| e.to_string())
            .unwrap_or_default()
    )))
}

fn read_quota_file(path: &PathBuf) -> anyhow::Result<QuotaFile> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| exit::usage(format!("cannot read {}: {e}", path.display())))?;
    let name = path.display().to_string();
    QuotaFile::parse(&text, Format::from_path(&name))
        .map_err(|e| exit::usage(format!("{name}: {e}")))
}

async fn resolve_cmd(a: ResolveArgs, out: OutputFormat) -> anyhow::Result<()> {
    if a.user.is_none() && a.ip.is_none() {
        return Err(exit::usage(
            "give --user PRINCIPAL --client-id ID, or --ip IP",
        ));
    }
    let (state, note) = match &a.from_file {
        Some(f) => (
            read_quota_file(f)?.entities(),
            format!("quotas from {}", f.display()),
        ),
        None => {
            let admin = connect(&a.connect).await?;
            (
                admin.describe(&Filter::all(), None).await?,
                "quotas stored in the cluster".to_string(),
            )
        }
    };
    let (resolution, user, cid) = match (&a.user, &a.client_id, &a.ip) {
        (Some(u), Some(c), _) => (resolve(&state, u, c), u.clone(), c.clone()),
        (_, _, Some(ip)) => (resolve_ip(&state, ip), String::new(), String::new()),
        _ => return Err(exit::usage("--user needs --client-id")),
    };
    print_resolution(
        &resolution,
        &user,
        &cid,
        a.ip.as_deref(),
        &note,
        &state,
        out,
    );
    Ok(())
}

/// Other stored (user, client-id) entities whose pairs also resolve to the same source entity.
fn also_matching(state: &[EntityQuotas], src: &Entity, user: &str, cid: &str) -> Vec<String> {
    let mut out = Vec::new();
    for eq in state {
        let (Some(EntityName::Named(u)), Some(EntityName::Named(c))) =
            (&eq.entity.user, &eq.entity.client_id)
        else {
            continue;
        };
        if (u.as_str(), c.as_str()) == (user, cid) {
            continue;
        }
        let r = resolve(state, u, c);
        if r.keys
            .iter()
            .any(|k| k.source.as_ref().map(|s| &s.entity) == Some(src))
        {
            out.push(format!("(user '{u}', client-id '{c}')"));
        }
    }
    out
}

fn print_resolution(
    r: &Resolution,
    user: &str,
    cid: &str,
    ip: Option<&str>,
    note: &str,
    state: &[EntityQuotas],
    out: OutputFormat,
) {
    const PER_BROKER: &str = "Limits apply per broker: a client spread over N brokers can reach about N x the limit in aggregate. A custom client.quota.callback.class on the brokers would override this resolution.";
    match out {
        OutputFormat::Json => {
            let keys: Vec<_> = r
                .keys
                .iter()
                .map(|k| {
                    json!({
                        "key": k.key.name(),
                        "value": k.value,
                        "unlimited": k.value.is_none(),
                        "level": k.source.as_ref().map(|s| s.level),
                        "entity": k.source.as_ref().map(|s| entity_json(&s.entity)),
                        "sharing": k.source.as_ref().map(|s| s.sharing.describe(user, cid)),
                    })
                })
                .collect();
            let who = match ip {
                Some(ip) => json!({ "ip": ip }),
                None => json!({ "user": user, "client-id": cid }),
            };
            println!(
                "{}",
                json!({ "for": who, "source": note, "per_broker": true, "keys": keys, "note": PER_BROKER })
            );
        }
        OutputFormat::Table => {
            let esc = kquota_admin::model::escape_controls;
            match ip {
                Some(ip) => println!("Effective quotas for ip '{}' ({note}):", esc(ip)),
                None => println!(
                    "Effective quotas for user '{}' with client-id '{}' ({note}):",
                    esc(user),
                    esc(cid)
                ),
            }
            let rows: Vec<Vec<String>> = r
                .keys
                .iter()
                .map(|k| match &k.source {
                    Some(s) => vec![
                        k.key.name().to_string(),
                        kquota_admin::fmt_num(k.value.unwrap_or_default()),
                        s.level.to_string(),
                        s.entity.to_string(),
                        s.sharing.describe(user, cid),
                    ],
                    None => vec![
                        k.key.name().to_string(),
                        "unlimited".into(),
                        "-".into(),
                        "-".into(),
                        "no quota at any level".into(),
                    ],
                })
                .collect();
            print!(
                "{}",
                output::table(
                    &["KEY", "VALUE", "LEVEL", "FROM ENTITY", "SHARED BY"],
                    &rows
                )
            );
            if ip.is_none() {
                let mut sources: Vec<&Entity> = r
                    .keys
                    .iter()
                    .filter_map(|k| k.source.as_ref().map(|s| &s.entity))
                    .collect();
                sources.dedup();
                for src in sources {
                    let others = also_matching(state, src, user, cid);
                    if !others.is_empty() {
                        println!("Also limited by {src}: {}", others.join(", "));
                    }
                }
            }
            println!("{PER_BROKER}");
        }
    }
}

async fn plan_cmd(a: PlanArgs, out: OutputFormat, apply: bool) -> anyhow::Result<()> {
    let file = read_quota_file(&a.file)?;
    if !apply && a.validate_only {
        return Err(exit::usage(
            "--validate-only applies to `apply`; `plan` never changes anything",
        ));
    }
    let read_plan = async {
        let desired = file.into_entities();
        let admin = connect(&a.connect).await?;
        let current = admin.describe(&Filter::all(), None).await?;
        let plan = diff(&current, &desired, a.prune);
        // Only the plan is needed from here on: both states are freed here, before altering
        // (peak memory of large applies).
        Ok((admin, plan))
    };
    if !apply {
        let (_, plan) = read_plan.await?;
        print_plan(&plan, out);
        return Ok(());
    }
    let claim = interrupt::claim(nothing_changed);
    let (admin, plan) = claim.unless_interrupted(read_plan, NOTHING_CHANGED).await?;
    print_plan(&plan, out);
    if plan.is_empty() {
        return Ok(());
    }
    let alts = plan.alterations();
    drop(plan);
    validate_alterations(&alts)?;
    let file_arg = a.file.display().to_string();
    let check = match shlex::try_quote(&file_arg) {
        Ok(q) if kquota_admin::model::escape_controls(&file_arg) == file_arg => {
            format!("kquota quotas plan -f {q}")
        }
        _ => "kquota quotas plan -f FILE".to_string(),
    };
    let sent = send_changes(&admin, &claim, &alts, a.validate_only, "apply", &check).await;
    report_sent(sent, a.validate_only, out, &check)
}

fn print_plan(plan: &Plan, out: OutputFormat) {
    match out {
        OutputFormat::Json => {
            let changes: Vec<_> = plan
                .changes
                .iter()
                .map(|c| {
                    json!({
                        "entity": entity_json(&c.entity),
                        "kind": c.kind,
                        "keys": c.keys.iter().map(|k| json!({"key": k.key.name(), "old": k.old, "new": k.new})).collect::<Vec<_>>(),
                    })
                })
                .collect();
            println!("{}", json!({ "changes": changes }));
        }
        // Formatted first, written at once: Display writes a line at a time, and stdout
        // flushes at every newline (a 1 000-entity plan was 1 000 write calls).
        OutputFormat::Table => {
            let text = plan.to_string();
            print!("{text}");
        }
    }
}

/// The file format of `export`: `--format`, else `-o json`, else from the file name, else YAML.
/// `-o` never names a file (that is `-f`); `-o table` has no file format.
fn export_format(a: &ExportArgs, output: Option<OutputFormat>) -> anyhow::Result<Format> {
    let from_output = match output {
        None => None,
        Some(OutputFormat::Json) => Some(FileFormatArg::Json),
        Some(OutputFormat::Table) => {
            return Err(exit::usage(
                "quotas export writes a quota file: '--output table' is not a file format; use --output json or --format yaml|json",
            ))
        }
    };
    let chosen = match (a.format, from_output) {
        (Some(f), Some(o)) if f != o => {
            return Err(exit::usage(
                "quotas export: --output json conflicts with --format yaml; give one of them",
            ))
        }
        (f, o) => f.or(o),
    };
    let named_json = a
        .file
        .as_ref()
        .is_some_and(|f| Format::from_path(&f.display().to_string()) == Format::Json);
    Ok(match (chosen, &a.file) {
        (Some(FileFormatArg::Json), _) => Format::Json,
        // `plan -f x.json` reads x.json as JSON, so YAML written there would not read back.
        // (JSON in a .yaml file is fine: JSON is YAML.)
        (Some(FileFormatArg::Yaml), Some(f)) if named_json => {
            return Err(exit::usage(format!(
                "quotas export: --format yaml into {}: a .json file is read as JSON; use --format json or a .yaml name",
                kquota_admin::model::escape_controls(&f.display().to_string())
            )))
        }
        (Some(FileFormatArg::Yaml), _) => Format::Yaml,
        (None, Some(f)) => Format::from_path(&f.display().to_string()),
        (None, None) => Format::Yaml,
    })
}

async fn export(a: ExportArgs, output: Option<OutputFormat>) -> anyhow::Result<()> {
    let format = export_format(&a, output)?;
    let admin = connect(&a.connect).await?;
    let current = admin.describe(&Filter::all(), None).await?;
    let text = QuotaFile::from_state(&current).to_string(format);
    match &a.file {
        Some(f) => {
            std::fs::write(f, text).with_context(|| format!("cannot write {}", f.display()))?
        }
        None => print!("{text}"),
    }
    Ok(())
}

/// Runs a parsed kafka-configs invocation.
pub async fn run_configs(inv: Invocation) -> anyhow::Result<()> {
    // A change claims Ctrl-C from the start (see `send_changes`).
    let claim =
        matches!(inv.action, Action::Alter { .. }).then(|| interrupt::claim(nothing_changed));
    let connecting = async {
        connect(&inv.connect).await.map_err(|e| {
            if inv.bootstrap_controller {
                // Kafka's controllers do not serve client quotas (kafka-configs gets
                // UnsupportedEndpointTypeException there); kquota needs a broker.
                e.context("--bootstrap-controller: client quotas are served by brokers, not by KRaft controllers (kafka-configs fails there too); give a broker's address with --bootstrap-server")
            } else {
                e
            }
        })
    };
    let admin = match &claim {
        Some(claim) => {
            claim
                .unless_interrupted(connecting, NOTHING_CHANGED)
                .await?
        }
        None => connecting.await?,
    };
    match inv.action {
        Action::Describe {
            filter,
            scram_users,
        } => {
            match inv.output {
                OutputFormat::Json => {
                    let mut doc = output::quotas_json(&admin.describe(&filter, None).await?);
                    // The SCRAM lines of the text, for the same describes.
                    if let Some(users) = scram_users {
                        let described = admin.describe_user_scram_credentials(&users).await?;
                        doc["scram_credentials"] = output::scram_credentials_json(&described);
                    }
                    println!("{doc}");
                }
                OutputFormat::Table => {
                    // Quota lines first, then (a second request) the SCRAM lines, as Java does.
                    // One write for the whole answer (println! per line is a syscall per line).
                    let mut text = String::new();
                    for line in output::kafka_configs_lines(&admin.describe_wire(&filter).await?) {
                        text.push_str(&line);
                        text.push('\n');
                    }
                    print!("{text}");
                    if let Some(users) = scram_users {
                        let described = admin.describe_user_scram_credentials(&users).await?;
                        for line in output::kafka_configs_scram_lines(&described) {
                            println!("{line}");
                        }
                    }
                }
            }
            Ok(())
        }
        Action::Alter {
            entity,
            sets,
            deletes,
            first_type,
            first_name,
        } => {
            let claim = claim.expect("claimed for an alter");
            // Like kafka-configs: refuse to delete keys that are not set.
            if !deletes.is_empty() {
                let have = claim
                    .unless_interrupted(current_keys(&admin, &entity), NOTHING_CHANGED)
                    .await?;
                let missing: Vec<&str> = deletes
                    .iter()
                    .filter(|k| !have.contains(k))
                    .map(|k| k.name())
                    .collect();
                if !missing.is_empty() {
                    return Err(exit::usage(format!(
                        "Invalid config(s): {}",
                        missing.join(",")
                    )));
                }
            }
            let alts = vec![configs::alteration(&entity, &sets, &deletes)];
            validate_alterations(&alts)?;
            let check = describe_command(&entity);
            let sent = send_changes(&admin, &claim, &alts, inv.dry_run, "alter", &check).await;
            if inv.output == OutputFormat::Json {
                return report_sent(sent, inv.dry_run, OutputFormat::Json, &check);
            }
            // The kafka-configs lines: one line for the entity, or its error.
            if let Some((e, _)) = sent.failure {
                return Err(e);
            }
            if sent.interrupted && sent.results.is_empty() {
                return Err(exit::interrupted(NOTHING_CHANGED));
            }
            if let Some(e) = sent.results.iter().find_map(|r| r.error.as_ref()) {
                return Err(exit::broker(format!("entity {entity}: {e}")));
            }
            if inv.dry_run {
                println!("Validated config for {entity}; nothing changed (--dry-run).");
            } else {
                println!("{}", configs::completion_message(&first_type, &first_name));
            }
            propagation_warning(&sent.propagation);
            if sent.interrupted {
                let line = if inv.dry_run {
                    "interrupted: the change was validated only; nothing was changed".to_string()
                } else if sent.propagation == Propagation::Confirmed {
                    format!("interrupted: the change was applied and every broker shows it; check with '{check}'")
                } else {
                    format!("interrupted: the change was applied (per the broker's answer); not confirmed that every broker shows it yet; check with '{check}'")
                };
                return Err(exit::interrupted(line));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_args() {
        let a = EntityArgs {
            user: Some("u".into()),
            defaults: vec![TypeArg::ClientId],
            ..Default::default()
        };
        assert_eq!(
            a.entity().unwrap(),
            Entity::new()
                .with_user(EntityName::named("u"))
                .with_client_id(EntityName::Default)
        );
        let a = EntityArgs {
            user: Some("u".into()),
            defaults: vec![TypeArg::User],
            ..Default::default()
        };
        assert_eq!(exit::code_for(&a.entity().unwrap_err()), exit::USAGE);
        let a = EntityArgs {
            user: Some("u".into()),
            ip: Some("1.2.3.4".into()),
            ..Default::default()
        };
        assert_eq!(exit::code_for(&a.entity().unwrap_err()), exit::USAGE);
        let a = EntityArgs {
            client_id: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(exit::code_for(&a.entity().unwrap_err()), exit::USAGE);
    }

    #[test]
    fn the_command_to_check_an_entity_is_quoted_for_the_shell() {
        let arn = "arn:aws:sts::111111111111:assumed-role/R/s";
        let e = Entity::new()
            .with_user(EntityName::named(arn))
            .with_client_id(EntityName::Default);
        assert_eq!(
            describe_command(&e),
            format!("kquota quotas describe --user {arn} --default client-id")
        );
        let e = Entity::new().with_client_id(EntityName::named("my app's id"));
        assert_eq!(
            describe_command(&e),
            r#"kquota quotas describe --client-id "my app's id""#
        );
        // Never a control character on the terminal.
        let e = Entity::new().with_client_id(EntityName::named("a\x1b[2Jb"));
        assert_eq!(
            describe_command(&e),
            r"kquota quotas describe (entity client-id='a\x1b[2Jb')"
        );
    }

    fn ok(name: &str) -> AlterResult {
        AlterResult {
            entity: Entity::new().with_client_id(EntityName::named(name)),
            error: None,
        }
    }

    fn alteration(name: &str) -> Alteration {
        Alteration {
            entity: Entity::new().with_client_id(EntityName::named(name)),
            ops: vec![Op::Set(QuotaKey::ProducerByteRate, 1024.0)],
        }
    }

    /// A request failing after another was answered: the answered entities are listed as
    /// applied, the others as unknown / not sent, and the error line counts them.
    #[test]
    fn a_failure_part_way_reports_what_was_applied_first() {
        let sent = || Sent {
            alts: ["a", "b", "c"].map(alteration).to_vec(),
            results: vec![ok("a")],
            unanswered: vec![alteration("b").entity],
            not_sent: vec![alteration("c").entity],
            failure: Some((exit::connection("request 2 of 3 failed: timed out"), false)),
            interrupted: false,
            propagation: Propagation::Unconfirmed(None),
        };
        let e = report_sent(sent(), false, OutputFormat::Table, "CHECK").unwrap_err();
        assert_eq!(
            e.to_string(),
            "request 2 of 3 failed: timed out; 1 of 3 entities changed, 1 not sent, 1 outcome unknown; check with 'CHECK'"
        );
        assert_eq!(exit::code_for(&e), exit::CONNECTION);
        let (b, c) = (alteration("b").entity, alteration("c").entity);
        let rest = Unfinished {
            unanswered: std::slice::from_ref(&b),
            rejected: false,
            not_sent: std::slice::from_ref(&c),
            interrupted: false,
        };
        assert_eq!(
            alter_output(&[ok("a")], &rest, false, OutputFormat::Table),
            "ENTITY         RESULT\n\
             client-id='a'  OK\n\
             client-id='b'  unknown: its request got no answer (see the error)\n\
             client-id='c'  not sent (an earlier request failed)\n"
        );
        let doc: serde_json::Value =
            serde_json::from_str(&alter_output(&[ok("a")], &rest, false, OutputFormat::Json))
                .unwrap();
        assert_eq!(
            doc,
            json!({
                "validate_only": false,
                "results": [{"entity": {"client-id": "a"}, "ok": true, "error": null, "message": null}],
                "interrupted": false,
                "unanswered": [{"entity": {"client-id": "b"}, "outcome": "unknown"}],
                "not_sent": [{"client-id": "c"}],
            })
        );
        // Interrupted between requests: exit 130 with the counts.
        let interrupted = Sent {
            unanswered: Vec::new(),
            not_sent: vec![b.clone(), c.clone()],
            failure: None,
            interrupted: true,
            ..sent()
        };
        let e = report_sent(interrupted, false, OutputFormat::Table, "CHECK").unwrap_err();
        assert_eq!(
            e.to_string(),
            "interrupted: 1 of 3 entities changed, 2 not sent; not confirmed that every broker shows the change yet; check with 'CHECK'"
        );
        assert_eq!(exit::code_for(&e), exit::INTERRUPTED);
        assert!(exit::is_interrupted(&e));
        // The only request failed without an answer: its outcome is unknown.
        let only = Sent {
            alts: vec![alteration("a")],
            results: Vec::new(),
            unanswered: vec![alteration("a").entity],
            not_sent: Vec::new(),
            failure: Some((exit::connection("timed out"), false)),
            interrupted: false,
            propagation: Propagation::NotNeeded,
        };
        let e = report_sent(only, false, OutputFormat::Table, "CHECK").unwrap_err();
        assert_eq!(
            e.to_string(),
            "timed out; the change may or may not have been applied; check with 'CHECK'"
        );
        assert_eq!(exit::code_for(&e), exit::CONNECTION);
    }

    #[test]
    fn ops_parse() {
        let e = Entity::new().with_client_id(EntityName::named("c"));
        let ops = alter_ops(
            &e,
            &["producer_byte_rate=1024,consumer_byte_rate=2048".into()],
            &["request_percentage".into()],
        )
        .unwrap();
        assert_eq!(ops.len(), 3);
        assert_eq!(
            exit::code_for(&alter_ops(&e, &["producer_byte_rate".into()], &[]).unwrap_err()),
            exit::USAGE
        );
        assert_eq!(
            exit::code_for(&alter_ops(&e, &["producer_byte_rate=x".into()], &[]).unwrap_err()),
            exit::USAGE
        );
        assert_eq!(
            exit::code_for(&alter_ops(&e, &[], &[]).unwrap_err()),
            exit::USAGE
        );
    }
}
