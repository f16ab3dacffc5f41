//! A small test harness for bare-metal targets: named tests, `check!`-style assertions that
//! print what went wrong over semihosting, and a closing `N passed, M failed` line.
//!
//! A test is any `FnOnce() -> Outcome`. Assertion macros return `Err(Failure)` from it after
//! printing the file, line and values, so one failing test does not stop the others. A panic
//! (which the semihosting panic handler prints) ends the whole run with exit status 101; the
//! `test NAME ...` line printed before each test tells which one it was.
//!
//! ```ignore
//! fn group(r: &mut Runner) {
//!     r.test("json::small_object", || {
//!         let doc = ok!(Value::parse(b"{\"a\":1}"));
//!         let a = some!(doc.as_object().and_then(|o| o.get("a")));
//!         check_eq!(a.as_i64(), Some(1));
//!         Ok(())
//!     });
//! }
//! ```

use core::fmt;

use semihosting::{print, println};

/// A failed test. What failed was printed when the failure was found.
#[derive(Debug)]
pub struct Failure;

/// What a test returns.
pub type Outcome = Result<(), Failure>;

/// A group of tests: registers its tests with the runner (see `tests::GROUPS`).
pub type Group = fn(&mut Runner);

/// Runs tests one after the other and counts the results.
#[derive(Debug, Default)]
pub struct Runner {
    passed: u32,
    failed: u32,
}

impl Runner {
    /// A runner with nothing run yet.
    pub const fn new() -> Self {
        Self {
            passed: 0,
            failed: 0,
        }
    }

    /// Runs one test, printing `test NAME ... ok` or `... FAILED`.
    pub fn test(&mut self, name: impl fmt::Display, test: impl FnOnce() -> Outcome) {
        print!("test {name} ... ");
        match test() {
            Ok(()) => {
                self.passed += 1;
                println!("ok");
            }
            Err(Failure) => {
                self.failed += 1;
                println!("test {name} ... FAILED");
            }
        }
    }

    /// Prints the closing `N passed, M failed` line and ends the program: exit status 0 if
    /// every test passed and at least one ran, 1 otherwise.
    pub fn finish(self) -> ! {
        println!("{} passed, {} failed", self.passed, self.failed);
        if self.failed == 0 && self.passed > 0 {
            semihosting::process::exit(0)
        } else {
            if self.passed == 0 && self.failed == 0 {
                println!("error: no test ran");
            }
            semihosting::process::exit(1)
        }
    }
}

/// Prints where and why a test failed, below its `test NAME ... ` line. Used by the assertion
/// macros; the runner then prints `test NAME ... FAILED`.
pub fn report(file: &str, line: u32, what: fmt::Arguments<'_>) {
    println!();
    println!("  at {file}:{line}: {what}");
}

/// Fails the test unless the condition holds; an optional message (format string and
/// arguments) says more.
#[macro_export]
macro_rules! check {
    ($cond:expr $(,)?) => {
        if !$cond {
            $crate::harness::report(
                file!(),
                line!(),
                format_args!("check failed: {}", stringify!($cond)),
            );
            return Err($crate::harness::Failure);
        }
    };
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            $crate::harness::report(
                file!(),
                line!(),
                format_args!("check failed: {}: {}", stringify!($cond), format_args!($($msg)+)),
            );
            return Err($crate::harness::Failure);
        }
    };
}

/// Fails the test unless both sides are equal (`PartialEq`), printing both (`Debug`).
#[macro_export]
macro_rules! check_eq {
    ($left:expr, $right:expr $(,)?) => {
        match (&$left, &$right) {
            (left, right) => {
                if !(*left == *right) {
                    $crate::harness::report(
                        file!(),
                        line!(),
                        format_args!(
                            "{} == {}\n    left: {:?}\n   right: {:?}",
                            stringify!($left),
                            stringify!($right),
                            left,
                            right
                        ),
                    );
                    return Err($crate::harness::Failure);
                }
            }
        }
    };
    ($left:expr, $right:expr, $($msg:tt)+) => {
        match (&$left, &$right) {
            (left, right) => {
                if !(*left == *right) {
                    $crate::harness::report(
                        file!(),
                        line!(),
                        format_args!(
                            "{} == {}: {}\n    left: {:?}\n   right: {:?}",
                            stringify!($left),
                            stringify!($right),
                            format_args!($($msg)+),
                            left,
                            right
                        ),
                    );
                    return Err($crate::harness::Failure);
                }
            }
        }
    };
}

/// The `Ok` value of a `Result`, or fails the test printing the error (`Debug`).
#[macro_export]
macro_rules! ok {
    ($result:expr $(,)?) => {
        match $result {
            Ok(value) => value,
            Err(error) => {
                $crate::harness::report(
                    file!(),
                    line!(),
                    format_args!("{} returned Err({:?})", stringify!($result), error),
                );
                return Err($crate::harness::Failure);
            }
        }
    };
}

/// The value of an `Option`, or fails the test.
#[macro_export]
macro_rules! some {
    ($option:expr $(,)?) => {
        match $option {
            Some(value) => value,
            None => {
                $crate::harness::report(
                    file!(),
                    line!(),
                    format_args!("{} is None", stringify!($option)),
                );
                return Err($crate::harness::Failure);
            }
        }
    };
    ($option:expr, $($msg:tt)+) => {
        match $option {
            Some(value) => value,
            None => {
                $crate::harness::report(
                    file!(),
                    line!(),
                    format_args!("{} is None: {}", stringify!($option), format_args!($($msg)+)),
                );
                return Err($crate::harness::Failure);
            }
        }
    };
}
