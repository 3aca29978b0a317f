//! The linear solver inside the BDF Newton iterations: LU with partial pivoting on dense
//! storage that skips structural zeros, and refactorisation over the previous fill pattern.
//!
//! Why not a library solver: the Newton matrix `I − c·J` of a physiological model has tens of
//! rows and few non-zeros per row, and it is factorised at every step-size change and restart and
//! solved once per Newton iteration, thousands of times per simulation. diffsol's dense solver
//! (faer, full pivoting) allocates on every factorisation; faer's dense partial-pivoting LU and
//! triangular solves spend more in blocking and dispatch than in arithmetic at this size; faer's
//! sparse LU (via diffsol's `FaerSparseLU`) was slower still on the peer model (88 ms against
//! 58 ms per simulation). Elimination that skips zero multipliers and zero pivot-row entries does
//! the same arithmetic as textbook partial pivoting (skipped terms are exact zeros) in time
//! proportional to the fill, and the solves then run over the non-zeros of `L` and `U` only.
//!
//! Consecutive Newton matrices mostly share their structure and their pivots (`c` changes with
//! the step size, `J` only now and then), so, as KLU's refactorisation does, a factorisation
//! first tries the previous pivot order over the previous fill pattern, with no pivot search and
//! no scan for structure, and falls back to the pivoting factorisation only when partial pivoting
//! would choose differently. Either way the factors are the same, bit for bit.

use diffsol::{FaerMat, FaerVec, LaLinearOp, Matrix, MatrixCommon, Vector};
use diffsol_la::LinearSolver;
use std::cell::{Cell, RefCell};

thread_local! {
    /// Counts the Jacobian-vector products made on this thread (see [`note_jacobian_product`]).
    static JACOBIAN_GENERATION: Cell<u64> = const { Cell::new(0) };
    /// The factorisation of the last [`DenseLu`] dropped on this thread, with its fill patterns,
    /// for the next one: the integrator is rebuilt at every restart, and the structure rarely
    /// changes between segments.
    static LAST: RefCell<SparseAwareLu> = RefCell::new(SparseAwareLu::default());
}

/// Record that a Jacobian-vector product was computed. diffsol forms the Newton matrix
/// `M − c·J` from a Jacobian `J` it builds column by column from such products, and keeps `J`
/// between factorisations; so while no product has been computed, consecutive Newton matrices
/// differ only in `c`, and their non-zeros lie where those of the last checked matrix do (the
/// diagonal and the non-zeros of `J`), which lets [`DenseLu`] skip the scan for new non-zeros.
/// (The one exception, `c·J_ij` underflowing to zero in the checked matrix but not in a later
/// one, would drop a term below 1e-308 from the factors.)
pub(crate) fn note_jacobian_product() {
    JACOBIAN_GENERATION.with(|g| g.set(g.get().wrapping_add(1)));
}

/// `P A = L U` of a square matrix, stored column-major, with the non-zeros of `L` (left of the
/// diagonal) and `U` (right of it) listed per row for the solves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseAwareLu {
    n: usize,
    /// Factors in place, column-major: unit-lower `L` below the diagonal, `U` on and above.
    a: Vec<f64>,
    /// `perm[k]` is the row of `A` that ended up in row `k`.
    perm: Vec<usize>,
    /// `perm` is the identity.
    unpermuted: bool,
    /// Non-zeros of `L`'s rows left of the diagonal, `(column, value)`, row `i` at
    /// `l_start[i]..l_start[i + 1]`, by increasing column.
    l: Vec<(u32, f64)>,
    l_start: Vec<usize>,
    /// `l_used[j]`: column `j` of `L` has a non-zero.
    l_used: Vec<bool>,
    /// Non-zeros of `U`'s rows right of the diagonal, `(column, value)`, row `k` at
    /// `u_start[k]..u_start[k + 1]`, by increasing column.
    u: Vec<(u32, f64)>,
    u_start: Vec<usize>,
    /// Rows of the current column's multipliers (scratch).
    rows: Vec<u32>,
    /// The fill pattern of the last pivoting factorisation, for refactorising the next matrix.
    symbolic: Symbolic,
    /// The one before, with another pivot order: some models alternate between two.
    other: Symbolic,
    /// Every entry seen non-zero in a matrix factorised with pivoting, in `A`'s own
    /// (unpermuted) order, column-major. Fill patterns are built from it, so that an entry that
    /// is zero in one matrix and non-zero in the next costs one rebuild, not one per matrix.
    seen: Vec<bool>,
    /// The last 32 factorisations, one bit each, newest lowest: 1 if it pivoted afresh.
    recent: u32,
    /// Factorisations left that pivot afresh without trying to refactorise.
    pivot_only: u32,
    /// The length of the next such stretch: doubled each time, so that matrices whose pivots
    /// keep changing soon cost what pivoting always did.
    backoff: u32,
}

/// The structure of `P A = L U` for one pivot order: which entries of the factors can be
/// non-zero (`F`: the non-zeros of the matrices seen and their fill), in the permuted order.
///
/// `F` is closed under elimination with this pivot order: eliminating any matrix whose non-zeros
/// lie in `F` only ever writes entries of `F`. So such a matrix can be factorised by running the
/// elimination over `F` alone ([`SparseAwareLu::refactor`]).
#[derive(Debug, Clone, Default, PartialEq)]
struct Symbolic {
    /// Order of the matrices the structure is for (0: none yet).
    n: usize,
    /// The pivot order.
    perm: Vec<usize>,
    /// `outside[j n + r]` is all bits but the sign if entry `(r, j)` of `A` (unpermuted) is not
    /// in `F`, so must be zero, and 0 if it is in `F`.
    outside: Vec<u64>,
    /// Positions below the diagonal in column `k` of `F` (rows of `L`), increasing, at
    /// `below_start[k]..below_start[k + 1]`.
    below: Vec<u32>,
    below_start: Vec<usize>,
    /// Positions right of the diagonal in row `k` of `F` (columns of `U`), increasing, at
    /// `right_start[k]..right_start[k + 1]`.
    right: Vec<u32>,
    right_start: Vec<usize>,
    /// Positions left of the diagonal in row `i` of `F` (columns of `L`), increasing, at
    /// `left_start[i]..left_start[i + 1]`.
    left: Vec<u32>,
    left_start: Vec<usize>,
    /// The entries of `F` as `(position, row of A)`, column `j` at
    /// `gather_start[j]..gather_start[j + 1]`, to copy a matrix into the permuted order.
    gather: Vec<(u32, u32)>,
    gather_start: Vec<usize>,
}

impl SparseAwareLu {
    /// Factorise the `n × n` column-major matrix `m`. A zero pivot leaves a zero on `U`'s
    /// diagonal, so that solves give non-finite values (the Newton iteration then fails and the
    /// integrator shrinks its step) rather than panicking.
    #[cfg(test)]
    pub fn factor(&mut self, n: usize, m: &[f64]) {
        assert_eq!(m.len(), n * n, "an n × n matrix");
        self.factor_columns(n, |j| &m[j * n..(j + 1) * n], true);
    }

    /// Like [`Self::factor`], reading column `j` from `column(j)` (no intermediate copy).
    ///
    /// First tries [`Self::refactor`] with the fill pattern of the last pivoting factorisation
    /// (the caller may promise, with `check_structure` false, that the matrix's non-zeros lie
    /// where those of the last matrix given with `check_structure` did); if that fails, factorises
    /// with pivot search ([`Self::factor_pivoting`]) and records the new pattern.
    pub fn factor_columns<'m>(&mut self, n: usize, column: impl Fn(usize) -> &'m [f64], check_structure: bool) {
        if self.pivot_only > 0 {
            self.pivot_only -= 1;
            self.factor_pivoting(n, &column);
            return;
        }
        if self.symbolic.n == n && self.refactor(&column, check_structure) {
            self.recent <<= 1;
            return;
        }
        // The other pivot order (its pattern may not cover this matrix: check).
        if self.other.n == n {
            std::mem::swap(&mut self.symbolic, &mut self.other);
            if self.refactor(&column, true) {
                self.recent <<= 1;
                return;
            }
            std::mem::swap(&mut self.symbolic, &mut self.other);
        }
        self.recent = (self.recent << 1) | 1;
        if self.recent.count_ones() > 8 {
            // More than a quarter of the recent matrices wanted other pivots (some models' do,
            // as the step size changes): pivot afresh for a while, as if there were no
            // refactorisation, and start again from the pattern of a matrix after that.
            self.backoff = (self.backoff * 2).clamp(64, 1 << 16);
            self.pivot_only = self.backoff;
            self.recent = 0;
            self.symbolic.n = 0;
            self.other.n = 0;
            self.factor_pivoting(n, &column);
            return;
        }
        self.factor_pivoting(n, &column);
        if self.seen.len() != n * n {
            self.seen.clear();
            self.seen.resize(n * n, false);
        }
        for j in 0..n {
            for (s, x) in self.seen[j * n..(j + 1) * n].iter_mut().zip(column(j)) {
                *s |= *x != 0.0;
            }
        }
        // Keep the failed pattern as the alternative, and take the previous alternative if it
        // fits this pivot order and matrix.
        std::mem::swap(&mut self.symbolic, &mut self.other);
        let fits = self.symbolic.n == n && self.symbolic.perm == self.perm && self.symbolic.covers(&column);
        if !fits {
            self.symbolic.rebuild(n, &self.perm, &self.seen);
        }
    }

    /// Textbook LU with partial pivoting (the first largest magnitude), skipping exact zeros.
    fn factor_pivoting<'m>(&mut self, n: usize, column: &impl Fn(usize) -> &'m [f64]) {
        self.n = n;
        self.a.clear();
        for j in 0..n {
            let c = column(j);
            assert_eq!(c.len(), n, "column {j} of an n × n matrix");
            self.a.extend_from_slice(c);
        }
        self.u.clear();
        self.u_start.clear();
        self.perm.clear();
        self.perm.extend(0..n);
        let a = &mut self.a;
        for k in 0..n {
            // Pivot: the largest magnitude in column k at or below the diagonal.
            let col_k = &a[k * n..(k + 1) * n];
            let mut p = k;
            for i in k + 1..n {
                if col_k[i].abs() > col_k[p].abs() {
                    p = i;
                }
            }
            if p != k {
                for j in 0..n {
                    a.swap(j * n + k, j * n + p);
                }
                self.perm.swap(k, p);
            }
            let pivot = a[k * n + k];
            self.rows.clear();
            if pivot != 0.0 {
                for i in k + 1..n {
                    let x = &mut a[k * n + i];
                    if *x != 0.0 {
                        *x /= pivot;
                        self.rows.push(i as u32);
                    }
                }
            }
            // Record row k of U and update the trailing columns whose pivot-row entry is
            // non-zero.
            self.u_start.push(self.u.len());
            let (head, tail) = a.split_at_mut((k + 1) * n);
            let col_k = &head[k * n..];
            for (jj, col_j) in tail.chunks_exact_mut(n).enumerate() {
                let ukj = col_j[k];
                if ukj == 0.0 {
                    continue;
                }
                self.u.push(((k + 1 + jj) as u32, ukj));
                for &i in &self.rows {
                    col_j[i as usize] -= col_k[i as usize] * ukj;
                }
            }
        }
        self.u_start.push(self.u.len());
        // L's rows only now: later row swaps move entries of earlier columns.
        self.l.clear();
        self.l_start.clear();
        for i in 0..n {
            self.l_start.push(self.l.len());
            self.l.extend((0..i).map(|j| (j as u32, a[j * n + i])).filter(|(_, v)| *v != 0.0));
        }
        self.l_start.push(self.l.len());
        self.l_used.clear();
        self.l_used.resize(n, false);
        for &(j, _) in &self.l {
            self.l_used[j as usize] = true;
        }
        self.unpermuted = self.perm.iter().enumerate().all(|(k, &r)| k == r);
    }

    /// Factorise with the previous pivot order over the previous fill pattern `F`. Returns
    /// false, leaving the factors unusable, if a non-zero lies outside `F` (checked only if
    /// `check_structure`), if partial pivoting would choose another pivot, or if a value is not
    /// finite; the caller then factorises afresh.
    ///
    /// Why the factors are those of [`Self::factor_pivoting`], bit for bit: each pivot must be
    /// strictly larger in magnitude than every other candidate in its column (candidates outside
    /// `F` stay exactly zero), so partial pivoting would choose it too, whatever the order of the
    /// other rows; every entry then receives the same operations in the same order. Exact zeros
    /// are not skipped here as they are there: with finite values that only changes the signs of
    /// zeros, which no non-zero result depends on, and zeros are left out of the factors' lists.
    fn refactor<'m>(&mut self, column: &impl Fn(usize) -> &'m [f64], check_structure: bool) -> bool {
        let sym = &self.symbolic;
        let n = sym.n;
        if self.n != n || self.perm != sym.perm {
            self.n = n;
            self.a.resize(n * n, 0.0);
            self.perm.clone_from(&sym.perm);
            self.unpermuted = self.perm.iter().enumerate().all(|(k, &r)| k == r);
        }
        let a = &mut self.a;
        for j in 0..n {
            let c = column(j);
            assert_eq!(c.len(), n, "column {j} of an n × n matrix");
            if check_structure && !sym.covers_column(j, c) {
                return false;
            }
            let col_j = &mut a[j * n..(j + 1) * n];
            for &(k, r) in &sym.gather[sym.gather_start[j]..sym.gather_start[j + 1]] {
                col_j[k as usize] = c[r as usize];
            }
        }
        for k in 0..n {
            let (head, tail) = a.split_at_mut((k + 1) * n);
            let col_k = &mut head[k * n..];
            let pivot = col_k[k];
            let magnitude = pivot.abs();
            let below = &sym.below[sym.below_start[k]..sym.below_start[k + 1]];
            // Written so that NaN fails.
            let smaller = below.iter().fold(true, |ok, &i| ok & (col_k[i as usize].abs() < magnitude));
            if !(smaller && magnitude > 0.0 && magnitude < f64::INFINITY) {
                return false;
            }
            for &i in below {
                col_k[i as usize] /= pivot;
            }
            for &j in &sym.right[sym.right_start[k]..sym.right_start[k + 1]] {
                let col_j = &mut tail[(j as usize - k - 1) * n..(j as usize - k) * n];
                let ukj = col_j[k];
                for &i in below {
                    col_j[i as usize] -= col_k[i as usize] * ukj;
                }
            }
        }
        // The lists of non-zeros. A value that became non-finite stays so to the end (it is only
        // ever reduced by finite amounts or divided by a finite pivot), so checking the final
        // values checks them all.
        let mut finite = true;
        self.u.clear();
        self.u_start.clear();
        for k in 0..n {
            self.u_start.push(self.u.len());
            for &j in &sym.right[sym.right_start[k]..sym.right_start[k + 1]] {
                let v = a[j as usize * n + k];
                finite &= v.is_finite();
                if v != 0.0 {
                    self.u.push((j, v));
                }
            }
        }
        self.u_start.push(self.u.len());
        self.l.clear();
        self.l_start.clear();
        self.l_used.clear();
        self.l_used.resize(n, false);
        for i in 0..n {
            self.l_start.push(self.l.len());
            for &j in &sym.left[sym.left_start[i]..sym.left_start[i + 1]] {
                let v = a[j as usize * n + i];
                finite &= v.is_finite();
                if v != 0.0 {
                    self.l.push((j, v));
                    self.l_used[j as usize] = true;
                }
            }
        }
        self.l_start.push(self.l.len());
        finite
    }

    fn diag(&self, j: usize) -> f64 {
        self.a[j * self.n + j]
    }

    /// Solve `A x = b` in place (`x` holds `b` on entry); `work` is scratch of any size.
    pub fn solve(&self, x: &mut [f64], work: &mut Vec<f64>) {
        let n = self.n;
        work.clear();
        if self.unpermuted {
            work.extend_from_slice(&x[..n]);
        } else {
            work.extend(self.perm.iter().map(|&i| x[i]));
            x[..n].copy_from_slice(work);
        }
        // L z = P b by rows: z_i = b_i − Σ_j l_ij z_j, terms by increasing j, where terms with
        // z_j = 0 are skipped. Skipping only matters if some z_j is zero: first without the
        // test (no select in the chain of subtractions), and again with it if one was.
        for i in 0..n {
            let mut xi = x[i];
            for &(j, l) in &self.l[self.l_start[i]..self.l_start[i + 1]] {
                xi -= l * x[j as usize];
            }
            x[i] = xi;
        }
        // z_j is final once computed: was any z_j that some term multiplies zero?
        if x.iter().zip(&self.l_used).fold(false, |any, (xj, &used)| any | (used & (*xj == 0.0))) {
            x[..n].copy_from_slice(work);
            for i in 0..n {
                let mut xi = x[i];
                for &(j, l) in &self.l[self.l_start[i]..self.l_start[i + 1]] {
                    let xj = x[j as usize];
                    if xj != 0.0 {
                        xi -= l * xj;
                    }
                }
                x[i] = xi;
            }
        }
        for k in (0..n).rev() {
            let s: f64 = self.u[self.u_start[k]..self.u_start[k + 1]].iter().map(|&(j, u)| u * x[j as usize]).sum();
            x[k] = (x[k] - s) / self.diag(k);
        }
    }

    /// Solve `Aᵀ x = b` in place: `Aᵀ = Uᵀ Lᵀ P`.
    pub fn solve_transpose(&self, x: &mut [f64], work: &mut Vec<f64>) {
        let n = self.n;
        // Uᵀ z = b, with U by rows: z_k = b_k / u_kk, then b_j −= u_kj z_k.
        for k in 0..n {
            x[k] /= self.diag(k);
            let zk = x[k];
            if zk != 0.0 {
                for &(j, u) in &self.u[self.u_start[k]..self.u_start[k + 1]] {
                    x[j as usize] -= u * zk;
                }
            }
        }
        // Lᵀ w = z, with L by rows: w_i is final once the rows below it are done.
        for i in (0..n).rev() {
            let wi = x[i];
            if wi != 0.0 {
                for &(j, l) in &self.l[self.l_start[i]..self.l_start[i + 1]] {
                    x[j as usize] -= l * wi;
                }
            }
        }
        if !self.unpermuted {
            work.clear();
            work.resize(n, 0.0);
            for (k, &row) in self.perm.iter().enumerate() {
                work[row] = x[k];
            }
            x[..n].copy_from_slice(work);
        }
    }
}

impl Symbolic {
    /// Whether the non-zeros of column `j` of `A` (unpermuted) lie in `F`.
    fn covers_column(&self, j: usize, column: &[f64]) -> bool {
        // The bits of the entries outside F, less their signs, OR-ed: zero iff all are ±0.
        let outside = &self.outside[j * self.n..(j + 1) * self.n];
        column.iter().zip(outside).fold(0, |any, (x, &mask)| any | (x.to_bits() & mask)) == 0
    }

    /// Whether the non-zeros of the matrix lie in `F`.
    fn covers<'m>(&self, column: &impl Fn(usize) -> &'m [f64]) -> bool {
        (0..self.n).all(|j| self.covers_column(j, column(j)))
    }

    /// Build `F` for pivot order `perm` from the non-zeros `seen` (column-major, unpermuted), by
    /// symbolic elimination.
    fn rebuild(&mut self, n: usize, perm: &[usize], seen: &[bool]) {
        self.n = n;
        self.perm.clear();
        self.perm.extend_from_slice(perm);
        // F in the permuted order, column-major; pivots are always in it.
        let mut f = vec![false; n * n];
        for j in 0..n {
            for k in 0..n {
                f[j * n + k] = k == j || seen[j * n + perm[k]];
            }
        }
        self.below.clear();
        self.below_start.clear();
        self.right.clear();
        self.right_start.clear();
        for k in 0..n {
            // Column k below the diagonal and row k right of it are final after step k − 1.
            self.below_start.push(self.below.len());
            self.below.extend((k + 1..n).filter(|&i| f[k * n + i]).map(|i| i as u32));
            self.right_start.push(self.right.len());
            self.right.extend((k + 1..n).filter(|&j| f[j * n + k]).map(|j| j as u32));
            for &j in &self.right[self.right_start[k]..] {
                for &i in &self.below[self.below_start[k]..] {
                    f[j as usize * n + i as usize] = true;
                }
            }
        }
        self.below_start.push(self.below.len());
        self.right_start.push(self.right.len());
        self.left.clear();
        self.left_start.clear();
        for i in 0..n {
            self.left_start.push(self.left.len());
            self.left.extend((0..i).filter(|&j| f[j * n + i]).map(|j| j as u32));
        }
        self.left_start.push(self.left.len());
        self.outside.clear();
        self.outside.resize(n * n, !(1 << 63));
        self.gather.clear();
        self.gather_start.clear();
        for j in 0..n {
            self.gather_start.push(self.gather.len());
            for k in 0..n {
                if f[j * n + k] {
                    self.outside[j * n + perm[k]] = 0;
                    self.gather.push((k as u32, perm[k] as u32));
                }
            }
        }
        self.gather_start.push(self.gather.len());
    }
}

/// diffsol's linear-solver interface over [`SparseAwareLu`].
#[derive(Default)]
pub struct DenseLu {
    matrix: Option<FaerMat<f64>>,
    lu: SparseAwareLu,
    factored: bool,
    /// The Jacobian generation at which the last matrix was checked for new non-zeros.
    checked: Option<u64>,
    work: RefCell<Vec<f64>>,
}

impl DenseLu {
    fn solve_impl(&self, x: &mut FaerVec<f64>, transpose: bool) -> Result<(), diffsol::LaError> {
        if !self.factored {
            return Err(diffsol::LaError::Other("the LU factorisation was not set".into()));
        }
        let x = x.inner_mut().col_as_slice_mut(0);
        let mut work = self.work.borrow_mut();
        if transpose {
            self.lu.solve_transpose(x, &mut work)
        } else {
            self.lu.solve(x, &mut work)
        }
        Ok(())
    }
}

impl Drop for DenseLu {
    fn drop(&mut self) {
        if self.factored {
            let lu = std::mem::take(&mut self.lu);
            // Not during the thread's teardown: then there is no next integrator to hand over to.
            let _ = LAST.try_with(|last| *last.borrow_mut() = lu);
        }
    }
}

impl LinearSolver<FaerMat<f64>> for DenseLu {
    fn set_linearisation<C: LaLinearOp<T = f64, V = FaerVec<f64>, M = FaerMat<f64>, C = diffsol::FaerContext>>(
        &mut self,
        op: &C,
    ) {
        let matrix = self.matrix.as_mut().expect("set_sparsity is called before set_linearisation");
        op.matrix_inplace(matrix);
        let a = matrix.inner();
        let n = a.nrows();
        assert_eq!(a.ncols(), n, "one square matrix (no batches)");
        if !self.factored {
            self.lu = LAST.with(|last| std::mem::take(&mut *last.borrow_mut()));
        }
        // Read after the matrix is formed: forming it may have computed a new Jacobian.
        let generation = JACOBIAN_GENERATION.with(Cell::get);
        self.lu.factor_columns(n, |j| a.col_as_slice(j), self.checked != Some(generation));
        self.checked = Some(generation);
        self.factored = true;
    }

    fn solve_in_place(&self, x: &mut FaerVec<f64>) -> Result<(), diffsol::LaError> {
        self.solve_impl(x, false)
    }

    fn solve_transpose_in_place(&self, x: &mut FaerVec<f64>) -> Result<(), diffsol::LaError> {
        self.solve_impl(x, true)
    }

    fn set_sparsity<C: LaLinearOp<T = f64, V = FaerVec<f64>, M = FaerMat<f64>, C = diffsol::FaerContext>>(
        &mut self,
        op: &C,
    ) {
        self.matrix = Some(FaerMat::new_from_sparsity(op.nrows(), op.ncols(), op.sparsity(), *op.context()));
        self.factored = false;
        self.checked = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Deterministic test matrices, column-major: dense ones that need pivoting, and sparse ones
    // (about `fill` of the off-diagonal entries non-zero) with fill-in.
    fn matrix(n: usize, fill: usize) -> Vec<f64> {
        let mut m = vec![0.0; n * n];
        for j in 0..n {
            for i in 0..n {
                let h = (i * 31 + j * 17 + 7) % 23;
                let x = h as f64 / 23.0 - 0.5;
                let keep = fill >= 23 || h < fill || i == j || i == (j + 3) % n;
                if keep {
                    m[j * n + i] = if i == (j + 3) % n { x + 4.0 } else { x };
                }
            }
        }
        m
    }

    fn residual(n: usize, m: &[f64], x: &[f64], b: &[f64], transpose: bool) -> f64 {
        (0..n)
            .map(|i| {
                let ax: f64 = (0..n).map(|j| if transpose { m[i * n + j] } else { m[j * n + i] } * x[j]).sum();
                (ax - b[i]).abs()
            })
            .fold(0.0, f64::max)
    }

    #[test]
    fn solves_dense_and_sparse_systems_and_their_transposes() {
        let mut lu = SparseAwareLu::default();
        let mut work = Vec::new();
        for n in [1, 2, 5, 39, 56] {
            for fill in [2, 6, 23] {
                let m = matrix(n, fill);
                lu.factor(n, &m);
                let b: Vec<f64> = (0..n).map(|i| (i as f64).sin() + 1.0).collect();
                for transpose in [false, true] {
                    let mut x = b.clone();
                    if transpose {
                        lu.solve_transpose(&mut x, &mut work)
                    } else {
                        lu.solve(&mut x, &mut work)
                    }
                    let r = residual(n, &m, &x, &b, transpose);
                    assert!(r < 1e-11, "n = {n}, fill {fill}, transpose {transpose}: residual {r}");
                }
            }
        }
    }

    #[test]
    fn sparse_matrices_keep_few_factor_entries() {
        let (n, mut lu) = (39, SparseAwareLu::default());
        lu.factor(n, &matrix(n, 2));
        let sparse = lu.l.len() + lu.u.len();
        lu.factor(n, &matrix(n, 23));
        let dense = lu.l.len() + lu.u.len();
        assert_eq!(dense, n * n - n, "a dense matrix has dense factors");
        assert!(sparse * 3 < dense * 2, "{sparse} factor entries for a sparse matrix");
    }

    // `I − c·J` for the sparse `J` of `matrix`, column-major.
    fn newton_matrix(n: usize, j: &[f64], c: f64) -> Vec<f64> {
        (0..n * n).map(|k| if k % n == k / n { 1.0 } else { 0.0 } - c * j[k]).collect()
    }

    // The factors as the solves use them, and a solve, compared bit for bit.
    fn assert_same_factors(a: &SparseAwareLu, b: &SparseAwareLu, what: &str) {
        assert_eq!(
            (&a.perm, &a.l, &a.l_start, &a.u, &a.u_start),
            (&b.perm, &b.l, &b.l_start, &b.u, &b.u_start),
            "{what}"
        );
        let diag = |lu: &SparseAwareLu| (0..lu.n).map(|k| lu.diag(k).to_bits()).collect::<Vec<_>>();
        assert_eq!(diag(a), diag(b), "{what}: diagonal of U");
        let rhs: Vec<f64> = (0..a.n).map(|i| (i as f64 * 0.7).cos()).collect();
        let (mut xa, mut xb, mut work) = (rhs.clone(), rhs, Vec::new());
        a.solve(&mut xa, &mut work);
        b.solve(&mut xb, &mut work);
        assert_eq!(
            xa.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            xb.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn refactorisation_gives_the_pivoting_factors_bit_for_bit() {
        let n = 39;
        let mut reused = SparseAwareLu::default();
        let (mut refactored, mut fresh_count) = (0, 0);
        // Small c keeps the diagonal pivots; large c makes partial pivoting choose others.
        for fill in [2, 6] {
            let jac = matrix(n, fill);
            for (step, c) in [1e-3, 2e-3, 0.05, 0.3, 1.0, 30.0, 0.01, 1e3, 0.02].into_iter().enumerate() {
                let m = newton_matrix(n, &jac, c);
                let before = reused.symbolic.clone();
                // The same J as the previous matrix: the structure need not be checked.
                reused.factor_columns(n, |j| &m[j * n..(j + 1) * n], step == 0);
                if reused.symbolic == before {
                    refactored += 1;
                } else {
                    fresh_count += 1;
                }
                let mut fresh = SparseAwareLu::default();
                fresh.factor_pivoting(n, &|j| &m[j * n..(j + 1) * n]);
                assert_same_factors(&reused, &fresh, &format!("fill {fill}, c = {c}"));
            }
        }
        assert!(refactored >= 4 && fresh_count >= 3, "{refactored} refactorisations, {fresh_count} fresh");
    }

    #[test]
    fn a_non_zero_outside_the_fill_pattern_is_seen() {
        let n = 12;
        let jac = matrix(n, 2);
        let mut lu = SparseAwareLu::default();
        let m = newton_matrix(n, &jac, 0.01);
        lu.factor(n, &m);
        // A new entry far from the pattern: the refactorisation must notice it.
        let mut m2 = newton_matrix(n, &jac, 0.02);
        let k = (0..n * n).find(|&k| lu.symbolic.outside[k] != 0).expect("an entry outside F");
        m2[k] = 0.5;
        lu.factor(n, &m2);
        assert_eq!(lu.symbolic.outside[k], 0, "the pattern now has the new entry");
        let mut fresh = SparseAwareLu::default();
        fresh.factor_pivoting(n, &|j| &m2[j * n..(j + 1) * n]);
        assert_same_factors(&lu, &fresh, "after a new non-zero");
    }

    #[test]
    fn a_singular_matrix_gives_non_finite_solutions_not_a_panic() {
        let mut lu = SparseAwareLu::default();
        lu.factor(2, &[1.0, 2.0, 2.0, 4.0]);
        let mut x = vec![1.0, 1.0];
        lu.solve(&mut x, &mut Vec::new());
        assert!(x.iter().any(|v| !v.is_finite()));
    }
}
