//! The linear solver inside the BDF Newton iterations: dense LU with partial pivoting.
//!
//! diffsol's own dense solver (`FaerLU`) uses full pivoting and allocates the factors, the
//! permutations and the scratch on every factorisation; at the sizes of physiological models
//! (tens of states, refactorised at every step-size change and after every restart) that cost
//! more than the rest of a step. Partial pivoting is what CVODE and LSODA use for these
//! systems. The factorisation and solves are faer's; this type only keeps the buffers.

use diffsol::{FaerMat, FaerVec, LaLinearOp, Matrix, MatrixCommon, Vector};
use diffsol_la::LinearSolver;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::lu::partial_pivoting::{factor, solve};
use faer::perm::PermRef;
use faer::{Conj, Mat, Par};
use std::cell::RefCell;

/// Dense LU with partial pivoting and reused storage.
pub struct DenseLu {
    matrix: Option<FaerMat<f64>>,
    lu: Mat<f64>,
    fwd: Vec<usize>,
    bwd: Vec<usize>,
    factored: bool,
    scratch: RefCell<Option<MemBuffer>>,
    permuted: RefCell<Vec<f64>>,
}

impl Default for DenseLu {
    fn default() -> Self {
        Self {
            matrix: None,
            lu: Mat::new(),
            fwd: Vec::new(),
            bwd: Vec::new(),
            factored: false,
            scratch: RefCell::default(),
            permuted: RefCell::default(),
        }
    }
}

// Scratch for factorising and solving an n × n system (one right-hand side), allocated once.
fn scratch(cell: &RefCell<Option<MemBuffer>>, n: usize) -> std::cell::RefMut<'_, MemBuffer> {
    let mut s = cell.borrow_mut();
    if s.is_none() {
        let req = factor::lu_in_place_scratch::<usize, f64>(n, n, Par::Seq, Default::default())
            .or(solve::solve_in_place_scratch::<usize, f64>(n, 1, Par::Seq))
            .or(solve::solve_transpose_in_place_scratch::<usize, f64>(n, 1, Par::Seq));
        *s = Some(MemBuffer::new(req));
    }
    std::cell::RefMut::map(s, |s| s.as_mut().expect("allocated above"))
}

impl DenseLu {
    fn solve_impl(&self, x: &mut FaerVec<f64>, transpose: bool) -> Result<(), diffsol::LaError> {
        if !self.factored {
            return Err(diffsol::LaError::Other("the LU factorisation was not set".into()));
        }
        let n = self.lu.nrows();
        if !transpose {
            substitute(&self.lu, &self.fwd, x.inner_mut().col_as_slice_mut(0), &mut self.permuted.borrow_mut());
            return Ok(());
        }
        let perm = PermRef::new_checked(&self.fwd, &self.bwd, n);
        let mut buf = scratch(&self.scratch, n);
        let stack = MemStack::new(&mut buf);
        let rhs = x.inner_mut().as_mut();
        {
            solve::solve_transpose_in_place_with_conj(
                self.lu.as_ref(),
                self.lu.as_ref(),
                perm,
                Conj::No,
                rhs,
                Par::Seq,
                stack,
            );
        }
        Ok(())
    }
}

/// Solve `LU x = P b` in place, column by column: `P A = L U` packed in `lu` (unit lower `L`
/// below the diagonal), `fwd` the row permutation. The one solve in every Newton iteration; at
/// tens of states faer's blocked, recursive triangular solves spend more in dispatch than in
/// arithmetic, and two plain loops over contiguous columns are several times faster.
fn substitute(lu: &Mat<f64>, fwd: &[usize], x: &mut [f64], b: &mut Vec<f64>) {
    let n = lu.nrows();
    b.clear();
    b.extend(fwd.iter().map(|&i| x[i]));
    x.copy_from_slice(b);
    for j in 0..n {
        let (head, tail) = x.split_at_mut(j + 1);
        let xj = head[j];
        if xj != 0.0 {
            for (xi, &l) in tail.iter_mut().zip(&lu.col_as_slice(j)[j + 1..]) {
                *xi -= l * xj;
            }
        }
    }
    for j in (0..n).rev() {
        let col = lu.col_as_slice(j);
        let (head, tail) = x.split_at_mut(j);
        tail[0] /= col[j];
        let xj = tail[0];
        if xj != 0.0 {
            for (xi, &u) in head.iter_mut().zip(&col[..j]) {
                *xi -= u * xj;
            }
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
        if self.lu.nrows() != n || self.lu.ncols() != a.ncols() {
            self.lu = Mat::zeros(n, a.ncols());
            self.fwd = vec![0; n];
            self.bwd = vec![0; n];
            *self.scratch.borrow_mut() = None;
        }
        self.lu.copy_from(a);
        let mut buf = scratch(&self.scratch, n);
        let stack = MemStack::new(&mut buf);
        factor::lu_in_place(self.lu.as_mut(), &mut self.fwd, &mut self.bwd, Par::Seq, stack, Default::default());
        drop(buf);
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A deterministic, well-conditioned but pivot-requiring test matrix.
    fn matrix(n: usize) -> Mat<f64> {
        Mat::from_fn(n, n, |i, j| {
            let x = ((i * 31 + j * 17 + 7) % 23) as f64 / 23.0 - 0.5;
            if i == (j + 3) % n { x + 4.0 } else { x }
        })
    }

    #[test]
    fn substitution_solves_the_system_as_faer_does() {
        for n in [1, 2, 5, 39, 56] {
            let a = matrix(n);
            let mut lu = a.clone();
            let (mut fwd, mut bwd) = (vec![0; n], vec![0; n]);
            let cell = RefCell::new(None);
            let mut buf = scratch(&cell, n);
            factor::lu_in_place(lu.as_mut(), &mut fwd, &mut bwd, Par::Seq, MemStack::new(&mut buf), Default::default());
            let b: Vec<f64> = (0..n).map(|i| (i as f64).sin() + 1.0).collect();
            let mut x = b.clone();
            substitute(&lu, &fwd, &mut x, &mut Vec::new());
            let mut y = Mat::from_fn(n, 1, |i, _| b[i]);
            let perm = PermRef::new_checked(&fwd, &bwd, n);
            solve::solve_in_place_with_conj(
                lu.as_ref(),
                lu.as_ref(),
                perm,
                Conj::No,
                y.as_mut(),
                Par::Seq,
                MemStack::new(&mut buf),
            );
            for i in 0..n {
                let ax: f64 = (0..n).map(|j| a[(i, j)] * x[j]).sum();
                assert!((ax - b[i]).abs() < 1e-12, "n = {n}: residual {} in row {i}", ax - b[i]);
                assert!((x[i] - y[(i, 0)]).abs() < 1e-12 * x[i].abs().max(1.0), "n = {n}: differs from faer in {i}");
            }
        }
    }
}
