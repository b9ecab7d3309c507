//! Command-line shape of the `cairn` binary.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "cairn",
    version,
    about = "Cairn: an embedded vector and RAG indexing engine"
)]
pub struct Cli {
    /// Data directory holding the collections [default: ./data].
    #[arg(long, global = true, env = "CAIRN_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the HTTP API (Qdrant's REST dialect) until SIGINT/SIGTERM.
    Serve(ServeArgs),
    /// Create, list, inspect and drop collections.
    #[command(subcommand)]
    Collection(CollectionCommand),
    /// Import points from a JSON-lines file (`{"id", "vector", "payload"}`
    /// per line) or an `.fvecs` file (ids are row numbers).
    Import(ImportArgs),
    /// Search a collection for the nearest points to a vector.
    Search(SearchArgs),
    /// Back up collections to S3 (or a directory), and list, verify,
    /// restore and prune backups.
    #[command(subcommand)]
    Backup(BackupCommand),
    /// The metadata catalog's schema migrations.
    #[command(subcommand)]
    Db(DbCommand),
    /// Print a running server's health report; exits 0 healthy, 1 warning,
    /// 2 critical (3 if the server cannot be reached).
    Health(HealthArgs),
    /// Load documents (.txt .md .html .pdf .jsonl) from files and folders,
    /// chunk, embed and upsert them; unchanged documents are skipped. Exits
    /// 0 when every document made it, 2 when some failed, 1 on a fatal error.
    Ingest(IngestArgs),
    /// Measure retrieval quality on evaluation data.
    #[command(subcommand)]
    Eval(EvalCommand),
}

#[derive(Subcommand, Debug)]
pub enum EvalCommand {
    /// A BEIR data set (corpus.jsonl, queries.jsonl, qrels/<split>.tsv):
    /// ingest the corpus into a scratch collection, run every judged query
    /// dense, BM25 and hybrid, and print nDCG@10, Recall@100 and MRR@10.
    Beir(EvalBeirArgs),
}

#[derive(Args, Debug)]
pub struct EvalBeirArgs {
    /// The data set's folder.
    pub dir: PathBuf,
    /// Which qrels file to judge by (`qrels/<split>.tsv`).
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Embedding model (a directory under models_dir).
    #[arg(long, default_value = cairn_ingest::embed::DEFAULT_MODEL)]
    pub model: String,
    /// Chunk documents to this many tokens. Without it, each document is one
    /// chunk (BEIR's protocol: the model reads its first 256 tokens, BM25
    /// all of it), which is what published figures measure.
    #[arg(long)]
    pub chunk_tokens: Option<usize>,
    /// Tokens shared by consecutive chunks (with --chunk-tokens).
    #[arg(long, default_value_t = 32, requires = "chunk_tokens")]
    pub overlap: usize,
    /// A TOML settings file (models_dir, …).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Print `{"dense": {"ndcg@10", "recall@100", "mrr@10"}, "bm25": …, "hybrid": …}`.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct IngestArgs {
    /// Files and folders (walked recursively; hidden entries skipped).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The collection (created if missing, for the model's vectors).
    #[arg(long)]
    pub collection: String,
    /// Ingest through a running server instead of opening --data-dir.
    #[arg(long)]
    pub server: Option<String>,
    /// API key for --server (full access).
    #[arg(long, env = "CAIRN_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Embedding model (a directory under models_dir).
    #[arg(long, default_value = cairn_ingest::embed::DEFAULT_MODEL)]
    pub model: String,
    /// Most tokens per chunk (of the model's tokenizer; capped by the model's input).
    #[arg(long)]
    pub chunk_tokens: Option<usize>,
    /// Tokens shared by consecutive chunks [default: 32].
    #[arg(long)]
    pub overlap: Option<usize>,
    /// One chunk per document (BM25 reads it all, the model its first 256
    /// tokens): for short records.
    #[arg(long, conflicts_with_all = ["chunk_tokens", "overlap"])]
    pub whole_documents: bool,
    /// Remove documents that disappeared from under the given paths.
    #[arg(long)]
    pub prune: bool,
    /// Re-embed documents even if unchanged (after changing chunk sizes).
    #[arg(long)]
    pub force: bool,
    /// A tag every document gets (repeatable).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// JSON lines: the field holding the text.
    #[arg(long, default_value = "text")]
    pub text_field: String,
    /// JSON lines: the field holding the document id [default: `_id`, else `id`].
    #[arg(long)]
    pub id_field: Option<String>,
    /// JSON lines: the field holding the title.
    #[arg(long, default_value = "title")]
    pub title_field: String,
    /// JSON lines: fields kept in the payload under `metadata` (repeatable;
    /// an object field named `metadata` is spread) [default: metadata].
    #[arg(long = "metadata-field")]
    pub metadata_fields: Vec<String>,
    /// A TOML settings file (models_dir, metadata_url, …).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Where backups live, and the settings file that may say so.
#[derive(Args, Debug, Clone)]
pub struct BackupTarget {
    /// `s3://bucket/prefix` or `file:///path` [default: config `backup.location`].
    #[arg(long)]
    pub location: Option<String>,
    /// A TOML settings file (the one `cairn serve` reads).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum BackupCommand {
    /// Snapshot collections and upload them as one backup.
    Create {
        #[command(flatten)]
        target: BackupTarget,
        /// A collection to back up (repeatable).
        #[arg(long = "collection", required_unless_present = "all")]
        collections: Vec<String>,
        /// Back up every collection.
        #[arg(long, conflicts_with = "collections")]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// List the complete backups at the location, newest first.
    List {
        #[command(flatten)]
        target: BackupTarget,
        #[arg(long)]
        json: bool,
    },
    /// Download a backup, check its checksums, restore it into a scratch
    /// directory and compare point counts.
    Verify {
        id: String,
        #[command(flatten)]
        target: BackupTarget,
        #[arg(long)]
        json: bool,
    },
    /// Restore a backup's collections into the data directory, replacing
    /// collections of the same name.
    Restore {
        id: String,
        #[command(flatten)]
        target: BackupTarget,
        /// Restore a single-collection backup under this name.
        #[arg(long = "as")]
        rename: Option<String>,
    },
    /// Delete backups the retention rules (`keep_hourly`, `keep_daily`,
    /// `keep_weekly`) do not keep, and leftovers of failed runs.
    Prune {
        #[command(flatten)]
        target: BackupTarget,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug, Clone)]
pub struct DbTarget {
    /// `sqlite://PATH` or `postgres://…` [default: config `metadata_url`,
    /// else <data-dir>/meta.db].
    #[arg(long, env = "CAIRN_METADATA_URL")]
    pub metadata_url: Option<String>,
    #[arg(long)]
    pub config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum DbCommand {
    /// Apply every pending migration.
    Migrate {
        #[command(flatten)]
        target: DbTarget,
    },
    /// List migrations and whether each is applied.
    Status {
        #[command(flatten)]
        target: DbTarget,
        #[arg(long)]
        json: bool,
    },
    /// Revert the newest applied migrations.
    Rollback {
        #[command(flatten)]
        target: DbTarget,
        #[arg(long, default_value_t = 1)]
        steps: usize,
    },
}

#[derive(Args, Debug)]
pub struct HealthArgs {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:6333")]
    pub server: String,
    /// API key, if the server closes its health endpoints.
    #[arg(long, env = "CAIRN_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DistanceArg {
    Cosine,
    Dot,
    Euclid,
}

#[derive(Subcommand, Debug)]
pub enum CollectionCommand {
    /// Create a collection.
    Create {
        name: String,
        /// Vector dimension (1..=65536).
        #[arg(long)]
        dim: usize,
        #[arg(long, value_enum)]
        distance: DistanceArg,
        /// HNSW links per node (layer 0 keeps twice as many).
        #[arg(long)]
        m: Option<usize>,
        /// HNSW build-time candidate list size.
        #[arg(long)]
        ef_construct: Option<usize>,
        /// Default search-time candidate list size.
        #[arg(long)]
        ef: Option<usize>,
    },
    /// List collections.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show a collection's config and counts.
    Info {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete a collection and all its data.
    Drop { name: String },
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:6333].
    #[arg(long, env = "CAIRN_LISTEN")]
    pub listen: Option<std::net::SocketAddr>,
    /// A TOML file with settings; `CAIRN_*` variables and flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Require this key for every request (full access). Also `CAIRN_API_KEY`.
    #[arg(long)]
    pub api_key: Option<String>,
    /// A key allowed to read only. Also `CAIRN_READ_ONLY_API_KEY`.
    #[arg(long)]
    pub read_only_api_key: Option<String>,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
    #[arg(long)]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key for --tls-cert.
    #[arg(long)]
    pub tls_key: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    #[arg(long)]
    pub collection: String,
    /// `.jsonl`/`.json` (one point per line) or `.fvecs`.
    pub file: PathBuf,
    /// Points per atomic batch.
    #[arg(long, default_value_t = 1000)]
    pub batch_size: usize,
}

#[derive(Args, Debug)]
pub struct SearchArgs {
    #[arg(long)]
    pub collection: String,
    /// The query vector as a JSON array, e.g. '[0.1, 0.2, 0.3]'.
    #[arg(long)]
    pub vector: String,
    /// Number of results.
    #[arg(short = 'k', long = "limit", default_value_t = 10)]
    pub k: usize,
    /// A Qdrant-style filter as JSON, e.g. '{"must":[{"key":"lang","match":{"value":"en"}}]}'.
    #[arg(long)]
    pub filter: Option<String>,
    /// Search-time candidate list size (defaults to the collection's).
    #[arg(long)]
    pub ef: Option<usize>,
    /// Cosine/Dot: minimum score; Euclid: maximum distance.
    #[arg(long)]
    pub score_threshold: Option<f32>,
    /// Print machine-readable JSON.
    #[arg(long)]
    pub json: bool,
}
