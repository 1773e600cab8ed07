//! `kquota quotas describe | alter | delete | resolve | plan | apply | export`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use kquota_admin::{
    diff, name_warnings, parse_value, resolve, resolve_ip, validate_alterations, Alteration,
    Component, Entity, EntityName, EntityQuotas, EntityType, Filter, Format, Match, Op, Plan,
    QuotaFile, QuotaKey, Resolution,
};
use serde_json::json;

use crate::backend::{self, Admin, AlterResult};
use crate::cmd::configs::{self, Action, Invocation};
use crate::connect::ConnectArgs;
use crate::exit;
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
        .flat_map(|eq| eq.values.into_keys())
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
    let admin = connect(&a.connect).await?;
    // Removing a key that is not set changes nothing (the broker accepts it): say so, since it
    // usually means a mistyped entity.
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
    let results = admin.alter(&alts, a.validate_only).await?;
    report_alter(&results, a.validate_only, out)
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
    let admin = connect(&a.connect).await?;
    let have = current_keys(&admin, &entity).await?;
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
    let alts = vec![Alteration {
        entity,
        ops: keys.into_iter().map(Op::Remove).collect(),
    }];
    validate_alterations(&alts)?;
    let results = admin.alter(&alts, a.validate_only).await?;
    report_alter(&results, a.validate_only, out)
}

/// Prints per-entity results; fails (exit 3) if any entity failed.
fn report_alter(
    results: &[AlterResult],
    validate_only: bool,
    out: OutputFormat,
) -> anyhow::Result<()> {
    let failed: Vec<&AlterResult> = results.iter().filter(|r| r.error.is_some()).collect();
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
            println!(
                "{}",
                json!({ "validate_only": validate_only, "results": list })
            );
        }
        OutputFormat::Table => {
            let rows: Vec<Vec<String>> = results
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
            print!("{}", output::table(&["ENTITY", "RESULT"], &rows));
        }
    }
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
    let admin = connect(&a.connect).await?;
    let current = admin.describe(&Filter::all(), None).await?;
    let plan = diff(&current, &file.entities(), a.prune);
    print_plan(&plan, out);
    if !apply || plan.is_empty() {
        return Ok(());
    }
    let alts = plan.alterations();
    validate_alterations(&alts)?;
    let results = admin.alter(&alts, a.validate_only).await?;
    report_alter(&results, a.validate_only, out)
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
        OutputFormat::Table => print!("{plan}"),
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
    let admin = connect(&inv.connect).await.map_err(|e| {
        if inv.bootstrap_controller {
            // Kafka's controllers do not serve client quotas (kafka-configs gets
            // UnsupportedEndpointTypeException there); kquota needs a broker.
            e.context("--bootstrap-controller: client quotas are served by brokers, not by KRaft controllers (kafka-configs fails there too); give a broker's address with --bootstrap-server")
        } else {
            e
        }
    })?;
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
                    for line in output::kafka_configs_lines(&admin.describe_wire(&filter).await?) {
                        println!("{line}");
                    }
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
            // Like kafka-configs: refuse to delete keys that are not set.
            if !deletes.is_empty() {
                let have = current_keys(&admin, &entity).await?;
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
            let results = admin.alter(&alts, inv.dry_run).await?;
            if inv.output == OutputFormat::Json {
                return report_alter(&results, inv.dry_run, OutputFormat::Json);
            }
            if let Some(e) = results.iter().find_map(|r| r.error.as_ref()) {
                return Err(exit::broker(format!("entity {entity}: {e}")));
            }
            if inv.dry_run {
                println!("Validated config for {entity}; nothing changed (--dry-run).");
            } else {
                println!("{}", configs::completion_message(&first_type, &first_name));
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
