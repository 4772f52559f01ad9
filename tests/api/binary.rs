//! The real binary, started on port 0: the test learns the address from the server's
//! own "GraphiQL on http://…" log line instead of polling for it (and the metrics
//! listener's, also on port 0, from "metrics on http://…"), and keeps the rest of its
//! log to inspect.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// A running `profiles-gateway`, killed when dropped.
pub struct Binary {
    pub child: Child,
    pub port: u16,
    /// The port of the metrics listener.
    pub metrics_port: Option<u16>,
    log: Arc<Mutex<Vec<String>>>,
    /// Told when a line is added to `log`.
    logged: Arc<Condvar>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Binary {
    /// Serves `database_url` on a port of its own, with `settings` as environment.
    /// `RUST_LOG` defaults to errors plus the start-up line.
    pub fn start(database_url: &str, settings: &[(&str, &str)]) -> Binary {
        let mut command = Command::new(env!("CARGO_BIN_EXE_profiles-gateway"));
        command
            .env("DATABASE_URL", database_url)
            .env("PROFILES_LISTEN", "127.0.0.1:0")
            .env("PROFILES_METRICS_LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "error,profiles_gateway::app=info")
            .envs(settings.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("the binary starts");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut metrics_port = None;
        let port = loop {
            let Some(Ok(line)) = lines.next() else {
                let status = child.wait();
                panic!("the server exited before listening ({status:?}): {:#?}", log.lock().expect("log"));
            };
            log.lock().expect("log").push(line.clone());
            let port_after = |announced: &str| {
                let address = line.split(announced).nth(1)?;
                let port = address.split(['/', '"']).next().and_then(|a| a.rsplit(':').next()).map(str::parse);
                Some(port.and_then(Result::ok).unwrap_or_else(|| panic!("a port in {line}")))
            };
            // The metrics listener is announced first.
            metrics_port = metrics_port.or_else(|| port_after("metrics on http://"));
            if let Some(port) = port_after("GraphiQL on http://") {
                break port;
            }
        };
        let (kept, logged) = (log.clone(), Arc::new(Condvar::new()));
        let tell = logged.clone();
        let reader = std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                kept.lock().expect("log").push(line);
                tell.notify_all();
            }
        });
        Binary { child, port, metrics_port, log, logged, reader: Some(reader) }
    }

    /// Waits (at most `within`) until the log has `count` lines containing `text`, and
    /// says whether it has.
    pub fn wait_for_log(&self, text: &str, count: usize, within: Duration) -> bool {
        let log = self.log.lock().expect("log");
        let (log, _) = self
            .logged
            .wait_timeout_while(log, within, |log| log.iter().filter(|line| line.contains(text)).count() < count)
            .expect("log");
        log.iter().filter(|line| line.contains(text)).count() >= count
    }

    pub fn alive(&mut self) -> bool {
        self.child.try_wait().expect("wait").is_none()
    }

    /// Waits for the process to exit, and returns its status and every log line.
    pub fn exit(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let status = self.child.wait().expect("the process exits");
        if let Some(reader) = self.reader.take() {
            reader.join().expect("the log is read to its end");
        }
        let log = self.log.lock().expect("log").clone();
        (status, log)
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
