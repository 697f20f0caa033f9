//! Servers and services: named handlers over bytes, and the per-server count of requests
//! dispatched to a handler (labrpc's `GetCount`).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Bytes, RpcError, codec};

/// The error a handler returns when it cannot serve a request (for example, undecodable args).
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// A boxed handler future.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Bytes, HandlerError>> + Send>>;

/// A method as stored: shared so a dispatch can hand it to a spawned task.
type Handler = Arc<dyn Fn(Bytes) -> HandlerFuture + Send + Sync>;

/// A named set of methods (labrpc's Service; "Raft" for the Raft peer).
pub struct Service {
    name: String,
    methods: BTreeMap<String, Handler>,
}

impl Service {
    /// An empty service called `name`.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            methods: BTreeMap::new(),
        }
    }

    /// The service's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The names of its methods (without the service's name), sorted.
    pub fn method_names(&self) -> Vec<String> {
        self.methods.keys().cloned().collect()
    }

    /// Starts method `name` (without the service's name) on `args`, outside any network (a
    /// peer process serving the requests its grader's network dispatched to it); `None` when
    /// there is no such method. Nothing is counted.
    pub fn handle(&self, name: &str, args: Bytes) -> Option<HandlerFuture> {
        self.methods.get(name).map(|handler| handler(args))
    }

    /// Adds a method over raw bytes. A second method with the same name replaces the first.
    pub fn method<F, Fut>(mut self, name: &str, handler: F) -> Self
    where
        F: Fn(Bytes) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Bytes, HandlerError>> + Send + 'static,
    {
        let boxed: Handler = Arc::new(move |args| Box::pin(handler(args)) as HandlerFuture);
        self.methods.insert(name.to_owned(), boxed);
        self
    }

    /// Runs `f` with the method's name at the start of every call of every method added so
    /// far, inside the handler (a peer that logs each request it serves, or a test peer that
    /// prints from its handlers).
    pub fn before_each(mut self, f: impl Fn(&str) + Send + Sync + 'static) -> Self {
        let f: Arc<dyn Fn(&str) + Send + Sync> = Arc::new(f);
        for (name, handler) in &mut self.methods {
            let (inner, f, name) = (Arc::clone(handler), Arc::clone(&f), name.clone());
            *handler = Arc::new(move |args| {
                let (f, name) = (Arc::clone(&f), name.clone());
                let call = inner(args);
                Box::pin(async move {
                    f(&name);
                    call.await
                }) as HandlerFuture
            });
        }
        self
    }

    /// Adds a method whose args and reply are bincode-encoded; undecodable args are a
    /// `RpcError::Handler` for the caller, never a panic.
    pub fn typed_method<A, R, F, Fut>(self, name: &str, handler: F) -> Self
    where
        A: serde::de::DeserializeOwned + Send + 'static,
        R: serde::Serialize + Send + 'static,
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
    {
        self.method(name, move |bytes: Bytes| {
            // Decode before the future so the handler closure is only borrowed here.
            let started = codec::decode::<A>(&bytes).map(&handler);
            async move {
                let reply = started?.await;
                Ok(codec::encode(&reply)?)
            }
        })
    }
}

/// A server: services by name, and a count of requests dispatched to its handlers.
///
/// The network holds each registered server in an `Arc`; a server is "the same server" only
/// while that very `Arc` stays registered, which is how a restart (a new `Server` under the
/// old name) makes the old incarnation's replies undeliverable.
pub struct Server {
    services: BTreeMap<String, Service>,
    count: AtomicU64,
}

impl Server {
    /// An empty server.
    pub fn new() -> Self {
        Self {
            services: BTreeMap::new(),
            count: AtomicU64::new(0),
        }
    }

    /// Adds a service. A second service with the same name replaces the first.
    pub fn add_service(&mut self, service: Service) {
        self.services.insert(service.name.clone(), service);
    }

    /// Requests dispatched to a handler of this server so far.
    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// labrpc's `Server.dispatch`: counts the request, then finds "Service.Method" (split at
    /// the last dot) and starts its handler. The count comes first, as in labrpc.
    pub(crate) fn dispatch(&self, method: &str, args: Bytes) -> Result<HandlerFuture, RpcError> {
        self.count.fetch_add(1, Ordering::Relaxed);
        let handler = method
            .rsplit_once('.')
            .and_then(|(service, name)| self.services.get(service)?.methods.get(name));
        match handler {
            Some(handler) => Ok(handler(args)),
            None => Err(RpcError::UnknownMethod {
                method: method.to_owned(),
                valid: self.method_names(),
            }),
        }
    }

    /// Every "Service.Method" this server offers, sorted.
    fn method_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .services
            .values()
            .flat_map(|s| s.methods.keys().map(move |m| format!("{}.{m}", s.name)))
            .collect();
        names.sort();
        names
    }
}

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}
