//! The integration suite: every test in `both!` runs on SQLite, and on PostgreSQL when
//! `ZHICHENG_TEST_DATABASE_URL` names a server (see README, "Tests").

mod support;

mod architecture;
mod backup;
mod bulk;
mod bulk_verify;
mod cache;
mod certificates;
mod changes;
mod cli;
mod complaints;
mod contract;
mod draws;
mod events;
mod exports;
mod fixtures;
mod limits;
mod log;
mod matching;
mod meta;
mod nodes;
mod observability;
mod offline;
mod outage;
mod pages;
mod privacy;
mod properties;
mod publishing;
mod registry;
mod replica;
mod sessions;
mod store_errors;
mod supervisors;
mod trust;
mod validation;
mod verification_steps;
mod watch;
