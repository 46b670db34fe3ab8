//! Scoped overrides for library callers, like donfig's `with config.set(...)`.
//!
//! Overrides live on a per-thread stack so that concurrent tests and worker
//! threads do not see each other's overrides, and so that a guard going out
//! of scope, including by unwinding, always restores what was there before.

use std::cell::{Cell, RefCell};
use std::marker::PhantomData;

use crate::error::ConfigError;
use crate::layers::Layer;
use crate::schema::Schema;

struct Scope {
    id: u64,
    layers: Vec<Layer>,
}

thread_local! {
    static SCOPES: RefCell<Vec<Scope>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: Cell<u64> = const { Cell::new(0) };
}

/// Keeps a [`set`] override in force on this thread until dropped.
///
/// It is neither `Send` nor `Sync`: the override belongs to the thread that
/// made it.
#[must_use = "the override lasts only while the guard is alive"]
#[derive(Debug)]
pub struct ScopeGuard {
    id: u64,
    _this_thread_only: PhantomData<*const ()>,
}

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        // Removing by id, not by popping, keeps the stack right even when
        // guards are dropped out of order. `try_with` tolerates a guard that
        // outlives the thread's storage during thread exit.
        let _ = SCOPES.try_with(|scopes| scopes.borrow_mut().retain(|scope| scope.id != self.id));
    }
}

/// Overrides keys on this thread while the returned guard lives.
///
/// Values are read like environment variables (`"false"` is a boolean, `"8"`
/// an integer). Keys and values are checked now, so a mistake fails here and
/// not at some later load. Overrides have the highest priority, and the
/// innermost scope wins.
///
/// ```
/// let _guard = downscale_config::set([("run_options.use_cache", "false")])?;
/// let config = downscale_config::load(&downscale_config::Sources::default())?;
/// assert!(!config.settings().run_options.use_cache);
/// # Ok::<(), downscale_config::ConfigError>(())
/// ```
pub fn set<I, K, V>(overrides: I) -> Result<ScopeGuard, ConfigError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let defaults = Layer::defaults()?;
    let schema = Schema::from_defaults(defaults.tree());
    let layers = overrides
        .into_iter()
        .map(|(key, value)| {
            let layer = Layer::api(key.as_ref(), value.as_ref())?;
            layer.validate(&schema, &defaults)?;
            Ok(layer)
        })
        .collect::<Result<Vec<_>, ConfigError>>()?;
    let id = NEXT_ID.with(|next| {
        let id = next.get();
        next.set(id.wrapping_add(1));
        id
    });
    SCOPES.with(|scopes| scopes.borrow_mut().push(Scope { id, layers }));
    Ok(ScopeGuard { id, _this_thread_only: PhantomData })
}

/// This thread's overrides, outermost scope first.
pub(crate) fn current_layers() -> Vec<Layer> {
    SCOPES.with(|scopes| scopes.borrow().iter().flat_map(|scope| scope.layers.iter().cloned()).collect())
}
