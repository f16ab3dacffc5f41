//! The registry and the device data, kept in SQLite.
//!
//! One connection behind a mutex: the hub's write rate is bounded by the devices' own limits (protocol.md §3.5:
//! 10–30 messages per second per device), far below what one SQLite connection sustains, and a single writer
//! keeps every transaction ordered. Callers on the async side go through `tokio::task::spawn_blocking`.
//!
//! Durability: the database runs in WAL mode. A transaction is committed before the hub acknowledges the data
//! (a `report_reply`, an `event_reply`, an HTTP answer), so a `kill -9` of the hub loses nothing it acknowledged:
//! with `synchronous=NORMAL` a committed transaction is in the WAL file (the OS page cache holds it even if the
//! process dies); `synchronous=FULL` adds an fsync per commit so that it also survives power loss.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use crate::config::{Database, Durability};

/// Errors from the registry database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or prepared.
    #[error("cannot open the hub database {path}: {source}; check the path and its permissions")]
    Open {
        /// The file that was opened (`:memory:` for an in-memory database).
        path: String,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// A query failed.
    #[error("hub database query failed: {0}; the database file may be damaged or locked by another process")]
    Query(#[from] rusqlite::Error),
    /// A stored JSON column could not be read back.
    #[error(
        "hub database holds a value that is not JSON ({0}); the file was changed outside the hub"
    )]
    Corrupt(#[from] serde_json::Error),
    /// The row to create exists already.
    #[error("{0} exists already")]
    Exists(String),
    /// The row to change does not exist.
    #[error("{0} does not exist")]
    Missing(String),
    /// A database lock was poisoned by a panic in another thread.
    #[error("hub database lock is poisoned after an internal panic; restart the hub")]
    Poisoned,
}

/// One device as listed by the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    /// ProductId.
    pub product_id: String,
    /// DeviceName.
    pub device_name: String,
}

/// One stored value of a property.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyValue {
    /// Property identifier from the thing model.
    pub property: String,
    /// The value as the device sent it.
    pub value: Value,
    /// When it was measured, Unix milliseconds (the device's `timestamp`, or the hub's clock).
    pub timestamp_ms: i64,
}

/// One stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// Event identifier from the thing model.
    pub event_id: String,
    /// `info`, `alert` or `fault`, as the device sent it.
    pub event_type: Option<String>,
    /// The event's parameters.
    pub params: Value,
    /// When it happened, Unix milliseconds.
    pub timestamp_ms: i64,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS products (
    product_id TEXT PRIMARY KEY NOT NULL,
    model_json TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS devices (
    product_id TEXT NOT NULL REFERENCES products(product_id),
    device_name TEXT NOT NULL,
    psk TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    info_json TEXT,
    firmware_version TEXT,
    PRIMARY KEY (product_id, device_name)
);
CREATE TABLE IF NOT EXISTS reported (
    product_id TEXT NOT NULL,
    device_name TEXT NOT NULL,
    property TEXT NOT NULL,
    value_json TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    PRIMARY KEY (product_id, device_name, property)
);
CREATE TABLE IF NOT EXISTS property_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id TEXT NOT NULL,
    device_name TEXT NOT NULL,
    property TEXT NOT NULL,
    value_json TEXT NOT NULL,
    ts_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS property_history_by_device
    ON property_history (product_id, device_name, property, id);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id TEXT NOT NULL,
    device_name TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT,
    params_json TEXT NOT NULL,
    ts_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_device ON events (product_id, device_name, id);
CREATE TABLE IF NOT EXISTS accepted_tokens (
    product_id TEXT NOT NULL,
    device_name TEXT NOT NULL,
    method TEXT NOT NULL,
    client_token TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    PRIMARY KEY (product_id, device_name, method, client_token)
);
CREATE INDEX IF NOT EXISTS accepted_tokens_by_age ON accepted_tokens (ts_ms);
CREATE TABLE IF NOT EXISTS pending_control (
    product_id TEXT NOT NULL,
    device_name TEXT NOT NULL,
    property TEXT NOT NULL,
    value_json TEXT NOT NULL,
    delivered_token TEXT,
    PRIMARY KEY (product_id, device_name, property)
);
";

/// The hub's SQLite database.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if needed) the database and its tables.
    pub fn open(database: &Database, durability: Durability) -> Result<Self, StoreError> {
        let (conn, path) = match database {
            Database::File(path) => (Connection::open(path), path.display().to_string()),
            Database::InMemory => (Connection::open_in_memory(), String::from(":memory:")),
        };
        let open_err = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        let conn = conn.map_err(open_err)?;
        // Another process (an `iotctl` run, a second hub) may hold the lock briefly; wait instead of failing.
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(open_err)?;
        // WAL: readers never block the writer, and a commit is one append to the WAL file.
        let _mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
            .map_err(open_err)?;
        let sync = match durability {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        };
        conn.pragma_update(None, "synchronous", sync)
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        conn.execute_batch(SCHEMA).map_err(open_err)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.conn.lock().map_err(|_| StoreError::Poisoned)
    }

    /// True when no product exists yet (a first start).
    pub fn has_no_products(&self) -> Result<bool, StoreError> {
        let conn = self.lock()?;
        let count: i64 = conn.query_row("SELECT COUNT(*) FROM products", [], |row| row.get(0))?;
        Ok(count == 0)
    }

    /// Adds a product with its thing-model JSON.
    pub fn add_product(
        &self,
        product_id: &str,
        model_json: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let conn = self.lock()?;
        let changed = conn.execute(
            "INSERT OR IGNORE INTO products (product_id, model_json, created_ms) VALUES (?1, ?2, ?3)",
            params![product_id, model_json, now_ms],
        )?;
        if changed == 0 {
            return Err(StoreError::Exists(format!("product {product_id}")));
        }
        Ok(())
    }

    /// Every product with its thing-model JSON.
    pub fn products(&self) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.lock()?;
        let mut stmt =
            conn.prepare("SELECT product_id, model_json FROM products ORDER BY product_id")?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Adds a device with its base64 PSK.
    pub fn add_device(
        &self,
        product_id: &str,
        device_name: &str,
        psk: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let conn = self.lock()?;
        let product: Option<i64> = conn
            .query_row(
                "SELECT 1 FROM products WHERE product_id = ?1",
                [product_id],
                |row| row.get(0),
            )
            .optional()?;
        if product.is_none() {
            return Err(StoreError::Missing(format!("product {product_id}")));
        }
        let changed = conn.execute(
            "INSERT OR IGNORE INTO devices (product_id, device_name, psk, created_ms) VALUES (?1, ?2, ?3, ?4)",
            params![product_id, device_name, psk, now_ms],
        )?;
        if changed == 0 {
            return Err(StoreError::Exists(format!(
                "device {product_id}/{device_name}"
            )));
        }
        Ok(())
    }

    /// The base64 PSK of a device, if it is registered.
    pub fn device_psk(
        &self,
        product_id: &str,
        device_name: &str,
    ) -> Result<Option<String>, StoreError> {
        let conn = self.lock()?;
        Ok(conn
            .query_row(
                "SELECT psk FROM devices WHERE product_id = ?1 AND device_name = ?2",
                params![product_id, device_name],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// True when the device is registered.
    pub fn device_exists(&self, product_id: &str, device_name: &str) -> Result<bool, StoreError> {
        Ok(self.device_psk(product_id, device_name)?.is_some())
    }

    /// Every registered device.
    pub fn devices(&self) -> Result<Vec<DeviceRow>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(
            "SELECT product_id, device_name FROM devices ORDER BY product_id, device_name",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok(DeviceRow {
                product_id: row.get(0)?,
                device_name: row.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores accepted reported values: the latest value per property and one history row each, in one
    /// transaction.
    ///
    /// With a `client_token`, a report whose token was already stored for this device is not stored again and
    /// `Ok(false)` is returned: a device resends a QoS 1 message, or a queued one after a reconnect, with the
    /// same token, and the history must hold it once.
    pub fn store_report(
        &self,
        product_id: &str,
        device_name: &str,
        client_token: Option<&str>,
        values: &[(String, Value)],
        timestamp_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        if !first_use(&tx, product_id, device_name, "report", client_token)? {
            return Ok(false);
        }
        {
            let mut latest = tx.prepare_cached(
                "INSERT INTO reported (product_id, device_name, property, value_json, ts_ms) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (product_id, device_name, property)
                 DO UPDATE SET value_json = excluded.value_json, ts_ms = excluded.ts_ms",
            )?;
            let mut history = tx.prepare_cached(
                "INSERT INTO property_history (product_id, device_name, property, value_json, ts_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (property, value) in values {
                let text = value.to_string();
                latest.execute(params![
                    product_id,
                    device_name,
                    property,
                    text,
                    timestamp_ms
                ])?;
                history.execute(params![
                    product_id,
                    device_name,
                    property,
                    text,
                    timestamp_ms
                ])?;
            }
        }
        tx.commit()?;
        Ok(true)
    }

    /// The latest reported value of every property of a device.
    pub fn reported(
        &self,
        product_id: &str,
        device_name: &str,
    ) -> Result<Vec<PropertyValue>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(
            "SELECT property, value_json, ts_ms FROM reported
             WHERE product_id = ?1 AND device_name = ?2 ORDER BY property",
        )?;
        let rows = stmt.query_map(params![product_id, device_name], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (property, text, timestamp_ms) = row?;
            out.push(PropertyValue {
                property,
                value: serde_json::from_str(&text)?,
                timestamp_ms,
            });
        }
        Ok(out)
    }

    /// The most recent `limit` values of one property, newest first.
    pub fn history(
        &self,
        product_id: &str,
        device_name: &str,
        property: &str,
        limit: u32,
    ) -> Result<Vec<PropertyValue>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(
            "SELECT value_json, ts_ms FROM property_history
             WHERE product_id = ?1 AND device_name = ?2 AND property = ?3 ORDER BY id DESC LIMIT ?4",
        )?;
        let rows = stmt.query_map(params![product_id, device_name, property, limit], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (text, timestamp_ms) = row?;
            out.push(PropertyValue {
                property: property.to_owned(),
                value: serde_json::from_str(&text)?,
                timestamp_ms,
            });
        }
        Ok(out)
    }

    /// Stores accepted events in one transaction. Like [`Store::store_report`], a message whose
    /// `client_token` was already stored for this device is skipped and `Ok(false)` returned.
    pub fn store_events(
        &self,
        product_id: &str,
        device_name: &str,
        client_token: Option<&str>,
        events: &[EventRecord],
    ) -> Result<bool, StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        if !first_use(&tx, product_id, device_name, "event", client_token)? {
            return Ok(false);
        }
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO events (product_id, device_name, event_id, event_type, params_json, ts_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for event in events {
                insert.execute(params![
                    product_id,
                    device_name,
                    event.event_id,
                    event.event_type,
                    event.params.to_string(),
                    event.timestamp_ms
                ])?;
            }
        }
        tx.commit()?;
        Ok(true)
    }

    /// The most recent `limit` events of a device, newest first.
    pub fn events(
        &self,
        product_id: &str,
        device_name: &str,
        limit: u32,
    ) -> Result<Vec<EventRecord>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(
            "SELECT event_id, event_type, params_json, ts_ms FROM events
             WHERE product_id = ?1 AND device_name = ?2 ORDER BY id DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![product_id, device_name, limit], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, i64>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (event_id, event_type, text, timestamp_ms) = row?;
            out.push(EventRecord {
                event_id,
                event_type,
                params: serde_json::from_str(&text)?,
                timestamp_ms,
            });
        }
        Ok(out)
    }

    /// Queues control values for an offline device. A newer value for the same property replaces the older one
    /// and is no longer marked as delivered.
    pub fn add_pending_control(
        &self,
        product_id: &str,
        device_name: &str,
        values: &[(String, Value)],
    ) -> Result<(), StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO pending_control (product_id, device_name, property, value_json, delivered_token)
                 VALUES (?1, ?2, ?3, ?4, NULL)
                 ON CONFLICT (product_id, device_name, property)
                 DO UPDATE SET value_json = excluded.value_json, delivered_token = NULL",
            )?;
            for (property, value) in values {
                upsert.execute(params![
                    product_id,
                    device_name,
                    property,
                    value.to_string()
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The pending control values of a device. With `deliver_token`, the returned rows are marked as delivered
    /// under that clientToken, so that a later `clear_control` with the same token clears exactly them.
    pub fn pending_control(
        &self,
        product_id: &str,
        device_name: &str,
        deliver_token: Option<&str>,
    ) -> Result<Vec<(String, Value)>, StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let mut out = Vec::new();
        {
            let mut stmt = tx.prepare(
                "SELECT property, value_json FROM pending_control
                 WHERE product_id = ?1 AND device_name = ?2 ORDER BY property",
            )?;
            let rows = stmt.query_map(params![product_id, device_name], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })?;
            for row in rows {
                let (property, text) = row?;
                out.push((property, serde_json::from_str(&text)?));
            }
        }
        if let Some(token) = deliver_token {
            tx.execute(
                "UPDATE pending_control SET delivered_token = ?3 WHERE product_id = ?1 AND device_name = ?2",
                params![product_id, device_name, token],
            )?;
        }
        tx.commit()?;
        Ok(out)
    }

    /// Clears pending control after the device applied it (protocol.md §4.3 "`clear_control`").
    ///
    /// The C SDK sends `clear_control` with the clientToken of the `get_status` whose reply carried the control
    /// (protocol.md §10.8), so the rows delivered under that token are cleared, and values queued after that reply
    /// stay pending. A token that delivered nothing clears every pending value of the device.
    pub fn clear_control(
        &self,
        product_id: &str,
        device_name: &str,
        client_token: &str,
    ) -> Result<(), StoreError> {
        let conn = self.lock()?;
        let cleared = conn.execute(
            "DELETE FROM pending_control WHERE product_id = ?1 AND device_name = ?2 AND delivered_token = ?3",
            params![product_id, device_name, client_token],
        )?;
        if cleared == 0 {
            conn.execute(
                "DELETE FROM pending_control WHERE product_id = ?1 AND device_name = ?2",
                params![product_id, device_name],
            )?;
        }
        Ok(())
    }

    /// Stores the device's basic information (`report_info` params).
    pub fn set_info(
        &self,
        product_id: &str,
        device_name: &str,
        info: &Value,
    ) -> Result<(), StoreError> {
        let conn = self.lock()?;
        conn.execute(
            "UPDATE devices SET info_json = ?3 WHERE product_id = ?1 AND device_name = ?2",
            params![product_id, device_name, info.to_string()],
        )?;
        Ok(())
    }

    /// Stores the firmware version the device reported over OTA.
    pub fn set_firmware_version(
        &self,
        product_id: &str,
        device_name: &str,
        version: &str,
    ) -> Result<(), StoreError> {
        let conn = self.lock()?;
        conn.execute(
            "UPDATE devices SET firmware_version = ?3 WHERE product_id = ?1 AND device_name = ?2",
            params![product_id, device_name, version],
        )?;
        Ok(())
    }

    /// The device's basic information and its OTA firmware version.
    pub fn info(
        &self,
        product_id: &str,
        device_name: &str,
    ) -> Result<(Option<Value>, Option<String>), StoreError> {
        let conn = self.lock()?;
        let row: Option<(Option<String>, Option<String>)> = conn
            .query_row(
                "SELECT info_json, firmware_version FROM devices WHERE product_id = ?1 AND device_name = ?2",
                params![product_id, device_name],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let Some((info, firmware)) = row else {
            return Ok((None, None));
        };
        let info = info.map(|text| serde_json::from_str(&text)).transpose()?;
        Ok((info, firmware))
    }
}

/// How long a stored message's clientToken is remembered for duplicate detection. A device resends within its
/// offline queue's lifetime; a day covers the platform's own persistent-session window (protocol.md §3.5).
const TOKEN_MEMORY_MS: i64 = 24 * 3600 * 1000;

/// Records `client_token` for this device and kind of message; `false` when it was already recorded. Tokens older
/// than [`TOKEN_MEMORY_MS`] are forgotten on the way.
fn first_use(
    tx: &rusqlite::Transaction<'_>,
    product_id: &str,
    device_name: &str,
    kind: &str,
    client_token: Option<&str>,
) -> Result<bool, StoreError> {
    let Some(token) = client_token else {
        return Ok(true);
    };
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis()),
    )
    .unwrap_or(i64::MAX);
    tx.prepare_cached("DELETE FROM accepted_tokens WHERE ts_ms < ?1")?
        .execute(params![now.saturating_sub(TOKEN_MEMORY_MS)])?;
    let inserted = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO accepted_tokens (product_id, device_name, method, client_token, ts_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![product_id, device_name, kind, token, now])?;
    Ok(inserted == 1)
}

/// Where a file database lives by default: `iot-hub.db` in the working directory.
pub fn default_database_path() -> PathBuf {
    PathBuf::from("iot-hub.db")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn store() -> Store {
        let store = Store::open(&Database::InMemory, Durability::Normal).unwrap();
        store.add_product("CS0SLTKSYA", "{}", 1).unwrap();
        store
            .add_device("CS0SLTKSYA", "dev1", "IyXmUW5sU/q1vnb5yzTkeQ==", 1)
            .unwrap();
        store
    }

    #[test]
    fn duplicate_product_and_device_are_refused() {
        let store = store();
        assert!(matches!(
            store.add_product("CS0SLTKSYA", "{}", 2),
            Err(StoreError::Exists(_))
        ));
        assert!(matches!(
            store.add_device("CS0SLTKSYA", "dev1", "x", 2),
            Err(StoreError::Exists(_))
        ));
        assert!(matches!(
            store.add_device("NOPRODUCT1", "dev1", "x", 2),
            Err(StoreError::Missing(_))
        ));
        assert_eq!(
            store.device_psk("CS0SLTKSYA", "dev1").unwrap().as_deref(),
            Some("IyXmUW5sU/q1vnb5yzTkeQ==")
        );
        assert_eq!(store.device_psk("CS0SLTKSYA", "dev2").unwrap(), None);
    }

    #[test]
    fn report_keeps_latest_and_history() {
        let store = store();
        store
            .store_report(
                "CS0SLTKSYA",
                "dev1",
                None,
                &[("MQ2".into(), json!(30)), ("MQ7".into(), json!(20))],
                10,
            )
            .unwrap();
        store
            .store_report("CS0SLTKSYA", "dev1", None, &[("MQ2".into(), json!(31))], 20)
            .unwrap();
        let reported = store.reported("CS0SLTKSYA", "dev1").unwrap();
        assert_eq!(reported.len(), 2);
        assert_eq!(reported[0].property, "MQ2");
        assert_eq!(reported[0].value, json!(31));
        assert_eq!(reported[0].timestamp_ms, 20);
        let history = store.history("CS0SLTKSYA", "dev1", "MQ2", 10).unwrap();
        assert_eq!(
            history.iter().map(|v| v.value.clone()).collect::<Vec<_>>(),
            vec![json!(31), json!(30)]
        );
        assert_eq!(
            store.history("CS0SLTKSYA", "dev1", "MQ2", 1).unwrap().len(),
            1
        );
    }

    #[test]
    fn a_resent_token_is_stored_once() {
        let store = store();
        let values = [("MQ2".to_owned(), json!(30))];
        assert!(store
            .store_report("CS0SLTKSYA", "dev1", Some("b-1"), &values, 10)
            .unwrap());
        assert!(!store
            .store_report("CS0SLTKSYA", "dev1", Some("b-1"), &values, 10)
            .unwrap());
        assert!(store
            .store_report("CS0SLTKSYA", "dev1", Some("b-2"), &values, 11)
            .unwrap());
        // The same token from another device, or for an event, is a different message.
        assert!(store
            .store_report("CS0SLTKSYA", "dev2", Some("b-1"), &values, 10)
            .unwrap());
        let event = EventRecord {
            event_id: "gas_alarm".into(),
            event_type: Some("alert".into()),
            params: json!({"value": 1}),
            timestamp_ms: 12,
        };
        let events = [event];
        assert!(store
            .store_events("CS0SLTKSYA", "dev1", Some("b-1"), &events)
            .unwrap());
        assert!(!store
            .store_events("CS0SLTKSYA", "dev1", Some("b-1"), &events)
            .unwrap());
        assert_eq!(
            store
                .history("CS0SLTKSYA", "dev1", "MQ2", 10)
                .unwrap()
                .len(),
            2
        );
        assert_eq!(store.events("CS0SLTKSYA", "dev1", 10).unwrap().len(), 1);
    }

    #[test]
    fn clear_control_clears_only_what_was_delivered_under_the_token() {
        let store = store();
        store
            .add_pending_control(
                "CS0SLTKSYA",
                "dev1",
                &[("report_interval".into(), json!(10))],
            )
            .unwrap();
        let delivered = store
            .pending_control("CS0SLTKSYA", "dev1", Some("t1"))
            .unwrap();
        assert_eq!(delivered, vec![("report_interval".to_owned(), json!(10))]);
        // Queued after the get_status reply: must survive the clear_control of t1.
        store
            .add_pending_control("CS0SLTKSYA", "dev1", &[("alarm_enabled".into(), json!(1))])
            .unwrap();
        store.clear_control("CS0SLTKSYA", "dev1", "t1").unwrap();
        let left = store.pending_control("CS0SLTKSYA", "dev1", None).unwrap();
        assert_eq!(left, vec![("alarm_enabled".to_owned(), json!(1))]);
        // A token that delivered nothing clears all.
        store.clear_control("CS0SLTKSYA", "dev1", "other").unwrap();
        assert!(store
            .pending_control("CS0SLTKSYA", "dev1", None)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn events_are_returned_newest_first() {
        let store = store();
        let event = |id: &str, ts| EventRecord {
            event_id: id.into(),
            event_type: Some("alert".into()),
            params: json!({"value": 1}),
            timestamp_ms: ts,
        };
        store
            .store_events("CS0SLTKSYA", "dev1", None, &[event("a", 1), event("b", 2)])
            .unwrap();
        let events = store.events("CS0SLTKSYA", "dev1", 10).unwrap();
        assert_eq!(
            events
                .iter()
                .map(|e| e.event_id.as_str())
                .collect::<Vec<_>>(),
            vec!["b", "a"]
        );
    }

    #[test]
    fn file_database_survives_reopen() {
        let dir = std::env::temp_dir().join(format!("hub-store-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("reopen.db");
        let _ = std::fs::remove_file(&path);
        {
            let store = Store::open(&Database::File(path.clone()), Durability::Full).unwrap();
            store.add_product("CS0SLTKSYA", "{}", 1).unwrap();
            store.add_device("CS0SLTKSYA", "dev1", "psk", 1).unwrap();
        }
        let store = Store::open(&Database::File(path.clone()), Durability::Normal).unwrap();
        assert!(store.device_exists("CS0SLTKSYA", "dev1").unwrap());
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
