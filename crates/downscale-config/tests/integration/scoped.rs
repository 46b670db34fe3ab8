//! The scoped `set` API: per thread, innermost wins, restored on drop.

use downscale_config::{Sources, load, set};

fn n_workers() -> u32 {
    load(&Sources::default()).unwrap().settings().runtimes.dask.n_workers
}

#[test]
fn guard_restores_on_drop_and_scopes_nest() {
    assert_eq!(n_workers(), 4);
    let outer = set([("runtimes.dask.n_workers", "10")]).unwrap();
    assert_eq!(n_workers(), 10);
    {
        let _inner = set([("runtimes.dask.n_workers", "20"), ("runtimes.dask.threads_per_worker", "2")]).unwrap();
        assert_eq!(n_workers(), 20);
        assert_eq!(load(&Sources::default()).unwrap().settings().runtimes.dask.threads_per_worker, 2);
    }
    assert_eq!(n_workers(), 10);
    assert_eq!(load(&Sources::default()).unwrap().settings().runtimes.dask.threads_per_worker, 1);
    drop(outer);
    assert_eq!(n_workers(), 4);
}

#[test]
fn later_keys_in_one_scope_win_and_out_of_order_drops_are_safe() {
    let first = set([("runtimes.dask.n_workers", "1"), ("runtimes.dask.n_workers", "2")]).unwrap();
    assert_eq!(n_workers(), 2);
    let second = set([("runtimes.dask.n_workers", "3")]).unwrap();
    drop(first);
    assert_eq!(n_workers(), 3);
    drop(second);
    assert_eq!(n_workers(), 4);
}

#[test]
fn overrides_belong_to_their_thread() {
    let _guard = set([("runtimes.dask.n_workers", "7")]).unwrap();
    assert_eq!(std::thread::spawn(n_workers).join().unwrap(), 4);
    assert_eq!(n_workers(), 7);
}

#[test]
fn a_guard_dropped_by_unwinding_restores_too() {
    let result = std::panic::catch_unwind(|| {
        let _guard = set([("runtimes.dask.n_workers", "8")]).unwrap();
        assert_eq!(n_workers(), 8);
        panic!("unwind through the guard");
    });
    assert!(result.is_err());
    assert_eq!(n_workers(), 4);
}
