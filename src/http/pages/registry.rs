//! Registry pages: sanctions, authorities, the log, about.
