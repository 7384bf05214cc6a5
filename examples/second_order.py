"""First- and second-order optimisation side by side (the notes' "二阶优化": Newton's method and L-BFGS) on a
small, ill-conditioned, L2-regularised logistic regression:

    f(w) = (1/n) Σ_i softplus(-y_i x_iᵀw) + (λ/2)‖w‖²,  y_i ∈ {-1, +1}
    ∇f  = -(1/n) Xᵀ (y ⊙ σ(-y ⊙ Xw)) + λ w
    ∇²f = (1/n) Xᵀ diag(p_i (1 - p_i)) X + λ I,   p_i = σ(x_iᵀw)

The features have scales from 1 to 30, so the Hessian's condition number is in the thousands: the loss
surface is a long, narrow valley.

- **Gradient descent** (``optim.SGD`` on the full batch, the best fixed step 1/L for L = the largest
  curvature) crawls along the valley floor: the error shrinks by about (1 - 1/κ) per step.
- **Newton's method** rescales the gradient by the inverse Hessian, w ← w - (∇²f)⁻¹ ∇f, so every direction
  is taken at its own curvature: quadratic convergence, a handful of steps (one for a quadratic), each one
  solving a d×d system — O(d³), which is why nobody does it for a network with millions of weights.
- **L-BFGS** (``optim.LBFGS``) builds an inverse-Hessian estimate from the last few (step, gradient change)
  pairs, at O(d·history) per step, with a strong-Wolfe line search: nearly Newton's speed with first-order
  information only.

Ember's autograd has no double backward (``create_graph=True``), so the Hessian is written out by hand here
(the formula above; the tests compare it with torch.autograd.functional.hessian).

    python examples/second_order.py            # the table, and second_order.png
"""

import os
import sys

import ember
from ember import optim

LAMBDA = 1e-3


def make_problem(n=400, d=8, seed=0):
    """(X, y) with y ∈ {-1, +1}: features scaled from 1 to 30 (an ill-conditioned Hessian), float64."""
    gen = ember.Generator().manual_seed(seed)
    scales = 10 ** ember.linspace(0, 1.5, d, dtype=ember.float64)  # 1 … 31.6
    X = ember.randn(n, d, generator=gen, dtype=ember.float64) * scales
    w_true = ember.randn(d, generator=gen, dtype=ember.float64) / scales
    noise = 0.5 * ember.randn(n, generator=gen, dtype=ember.float64)
    y = ember.where(X @ w_true + noise > 0, 1.0, -1.0).to(ember.float64)
    return X, y


def loss_fn(w, X, y, lam=LAMBDA):
    """f(w): the mean logistic loss log(1 + e^{-y xᵀw}) plus (λ/2)‖w‖². logaddexp(0, z) = log(1 + eᶻ) exactly
    (F.softplus switches to z itself above z = 20, as torch's, which would make the curvature there 0)."""
    z = -y * (X @ w)  # (n,)
    return ember.logaddexp(ember.zeros_like(z), z).mean() + 0.5 * lam * (w * w).sum()


def hessian(w, X, lam=LAMBDA):
    """∇²f(w) = (1/n) Xᵀ diag(p (1 - p)) X + λ I, p = σ(Xw): positive definite, so Newton's step is a descent."""
    with ember.no_grad():
        p = ember.sigmoid(X @ w)  # (n,)
        curvature = p * (1 - p)  # (n,)
        return (X.T * curvature) @ X / X.shape[0] + lam * ember.eye(X.shape[1], dtype=X.dtype)  # (d, d)


def gradient(w, objective):
    """∇f(w) by backpropagation, and f(w)."""
    w = w.detach().requires_grad_(True)
    loss = objective(w)
    loss.backward()
    return w.grad, loss.item()


def newton(objective, hess, w0, steps):
    """Newton's method: w ← w - H⁻¹g. Returns the loss before each step and after the last."""
    w, losses = w0.clone(), []
    for _ in range(steps):
        g, loss = gradient(w, objective)
        losses.append(loss)
        w = w - ember.linalg.solve(hess(w), g)  # solve H Δ = g rather than inverting H
    losses.append(objective(w).item())
    return losses, w


def lbfgs(objective, w0, steps, history_size=10):
    """One L-BFGS iteration (with its line search) per step; also the number of function evaluations."""
    w = w0.clone().requires_grad_(True)
    opt = optim.LBFGS([w], lr=1, max_iter=1, max_eval=25, history_size=history_size, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = objective(w)
        loss.backward()
        return loss

    losses = []
    for _ in range(steps):
        losses.append(float(opt.step(closure)))
    with ember.no_grad():
        losses.append(objective(w).item())
    return losses, opt.state[w]["func_evals"]


def gradient_descent(objective, w0, steps, lr):
    """Full-batch gradient descent with optim.SGD (no momentum) at step size ``lr``."""
    w = w0.clone().requires_grad_(True)
    opt = optim.SGD([w], lr=lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = objective(w)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with ember.no_grad():
        losses.append(objective(w).item())
    return losses


def steps_to(losses, optimum, tol=1e-8):
    """The first iteration whose loss is within ``tol`` of the optimum (None if never)."""
    return next((k for k, f in enumerate(losses) if f - optimum <= tol), None)


def compare(steps=200, seed=0):
    """Run the three methods from w = 0; returns {method: losses}, the optimum f*, and facts for the table."""
    X, y = make_problem(seed=seed)
    objective = lambda w: loss_fn(w, X, y)  # noqa: E731
    w0 = ember.zeros(X.shape[1], dtype=ember.float64)
    newton_losses, w_star = newton(objective, lambda w: hessian(w, X), w0, 12)
    optimum = newton_losses[-1]
    # L = the largest curvature anywhere: σ' <= 1/4, so ∇²f <= XᵀX/(4n) + λ I.
    L = ember.linalg.eigvalsh(X.T @ X / (4 * X.shape[0])).max().item() + LAMBDA
    eigenvalues = ember.linalg.eigvalsh(hessian(w_star, X))
    lbfgs_losses, evaluations = lbfgs(objective, w0, 80)
    results = {
        "Newton (exact Hessian)": newton_losses,
        "L-BFGS (history 10, strong Wolfe)": lbfgs_losses,
        "SGD (full batch, lr = 1/L)": gradient_descent(objective, w0, steps, lr=1 / L),
    }
    facts = dict(condition=(eigenvalues.max() / eigenvalues.min()).item(), lbfgs_evaluations=evaluations, L=L)
    return results, optimum, facts


def plot(results, optimum, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - the plot is optional
        raise ImportError("the plot needs matplotlib: pip install ember[plot]") from error
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for (name, losses), marker in zip(results.items(), ("o", "s", None)):
        gaps = [max(f - optimum, 1e-16) for f in losses]
        ax.semilogy(range(len(gaps)), gaps, marker=marker, markersize=4, label=name)
    ax.set_xlabel("iteration")
    ax.set_ylabel("f(w) - f*  (log scale)")
    ax.set_title("Logistic regression, ill-conditioned features")
    ax.set_xlim(0, 80)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)  # atomically: a crash never leaves half a picture


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    out = argv[0] if argv else "second_order.png"
    results, optimum, facts = compare()
    print(f"condition number of the Hessian at the optimum: {facts['condition']:.0f}; f* = {optimum:.10f}")
    print(f"{'method':36} {'iterations to f - f* <= 1e-8':>30} {'loss after 10':>15} {'after 40':>12}")
    for name, losses in results.items():
        reached = steps_to(losses, optimum)
        at = lambda k: f"{losses[min(k, len(losses) - 1)] - optimum:.2e}"  # noqa: E731
        print(f"{name:36} {str(reached) if reached is not None else '> ' + str(len(losses) - 1):>30} "
              f"{at(10):>15} {at(40):>12}")
    print(f"(L-BFGS used {facts['lbfgs_evaluations']} function evaluations for its 80 iterations; "
          f"SGD's step 1/L = {1 / facts['L']:.4f})")
    plot(results, optimum, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
