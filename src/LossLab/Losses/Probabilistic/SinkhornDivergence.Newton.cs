namespace LossLab.Losses.Probabilistic;

/// <summary>
/// Newton's method on the entropic dual, to finish what Sinkhorn's iterations converge to only linearly: where the
/// plan is nearly a permutation (blur small against the clouds' spacing), their rate is close to 1, and the potentials
/// still drift after the marginals have reached double's resolution. From Sinkhorn's start, Newton converges
/// quadratically; its dense systems cost O((N + M)³), so it runs for clouds of up to <see cref="NewtonPoints"/> points.
/// </summary>
public sealed partial class SinkhornDivergence
{
    private const int NewtonPoints = 1200;

    /// <summary>
    /// Polishes the cross potentials (f (n), g (m)): the dual's gradient is the marginals' residual (a − π1, b − πᵀ1), and
    /// minus its Hessian (1/ε)[[diag(π1), π], [πᵀ, diag(πᵀ1)]], singular along (1, −1) (f + c, g − c): g's last entry is
    /// held, which fixes that constant.
    /// </summary>
    private static void NewtonCross(double eps, double[] c, int n, int m, double[] logA, double[] logB, double[] f, double[] g)
    {
        int k = n + m - 1;
        var plan = new double[n * m];
        var residual = new double[n + m];
        var h = new double[k * k];
        var step = new double[k];
        double error = Residual(eps, c, n, m, logA, logB, f, g, plan, residual);
        for (int iteration = 0; iteration < 30 && error > 1e-15; iteration++)
        {
            Array.Clear(h);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < m; j++)
                {
                    double v = plan[i * m + j] / eps;
                    h[i * k + i] += v;
                    if (j == m - 1) continue;
                    int col = n + j;
                    h[col * k + col] += v;
                    h[i * k + col] = v;
                    h[col * k + i] = v;
                }
            for (int i = 0; i < n; i++) step[i] = residual[i];
            for (int j = 0; j < m - 1; j++) step[n + j] = residual[n + j];
            if (!RegularizedSolve(h, k, step)) return;
            // The full step from Sinkhorn's start; halved while it would not shrink the residual.
            double[] f0 = (double[])f.Clone(), g0 = (double[])g.Clone();
            double scale = 1, next = error;
            for (int halving = 0; halving < 20; halving++, scale *= 0.5)
            {
                for (int i = 0; i < n; i++) f[i] = f0[i] + scale * step[i];
                for (int j = 0; j < m - 1; j++) g[j] = g0[j] + scale * step[n + j];
                next = Residual(eps, c, n, m, logA, logB, f, g, plan, residual);
                if (next < error) break;
            }
            if (!(next < error))
            {
                Array.Copy(f0, f, n);
                Array.Copy(g0, g, m);
                return;
            }
            error = next;
        }
    }

    /// <summary>
    /// Polishes a symmetric potential p (n): the dual 2⟨a, p⟩ − ε·Σ a_i a_k (e^{(p_i + p_k − C_ik)/ε} − 1) is strictly
    /// concave, its gradient 2(a − π1) and minus its Hessian (2/ε)(diag(π1) + π), positive definite.
    /// </summary>
    private static void NewtonSymmetric(double eps, double[] c, int n, double[] logA, double[] p)
    {
        var plan = new double[n * n];
        var residual = new double[2 * n];
        var h = new double[n * n];
        var step = new double[n];
        double error = Residual(eps, c, n, n, logA, logA, p, p, plan, residual);
        for (int iteration = 0; iteration < 30 && error > 1e-15; iteration++)
        {
            for (int i = 0; i < n; i++)
            {
                double row = 0;
                for (int l = 0; l < n; l++)
                {
                    row += plan[i * n + l];
                    h[i * n + l] = plan[i * n + l] / eps;
                }
                h[i * n + i] += row / eps;
                step[i] = residual[i];
            }
            if (!RegularizedSolve(h, n, step)) return;
            double[] p0 = (double[])p.Clone();
            double scale = 1, next = error;
            for (int halving = 0; halving < 20; halving++, scale *= 0.5)
            {
                for (int i = 0; i < n; i++) p[i] = p0[i] + scale * step[i];
                next = Residual(eps, c, n, n, logA, logA, p, p, plan, residual);
                if (next < error) break;
            }
            if (!(next < error))
            {
                Array.Copy(p0, p, n);
                return;
            }
            error = next;
        }
    }

    /// <summary>The plan π_ij = e^{logα_i + logβ_j + (f_i + g_j − C_ij)/ε} and the marginals' residuals; returns the largest.</summary>
    private static double Residual(double eps, double[] c, int n, int m, double[] logA, double[] logB, double[] f, double[] g, double[] plan, double[] residual)
    {
        for (int i = 0; i < n; i++) residual[i] = Math.Exp(logA[i]);
        for (int j = 0; j < m; j++) residual[n + j] = Math.Exp(logB[j]);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
            {
                double v = Math.Exp(logA[i] + logB[j] + (f[i] + g[j] - c[i * m + j]) / eps);
                plan[i * m + j] = v;
                residual[i] -= v;
                residual[n + j] -= v;
            }
        double error = 0;
        foreach (double r in residual) error = Math.Max(error, Math.Abs(r));
        return double.IsNaN(error) ? double.PositiveInfinity : error;
    }

    /// <summary>
    /// Solves H·x = rhs for H (k, k) symmetric positive semi-definite, adding λ·I when it is numerically singular (blocks of
    /// the plan coupled only by e^{−C/ε} below double's resolution): λ from 1e-14 of H's largest diagonal entry, up by
    /// 100 a try. The caller's step halving keeps only what shrinks the residual. False if nothing factors.
    /// </summary>
    private static bool RegularizedSolve(double[] h, int k, double[] rhs)
    {
        double largest = 0;
        for (int i = 0; i < k; i++) largest = Math.Max(largest, h[i * k + i]);
        var work = new double[h.Length];
        var solution = new double[k];
        double lambda = 0;
        for (int attempt = 0; attempt < 8; attempt++)
        {
            Array.Copy(h, work, h.Length);
            for (int i = 0; i < k; i++) work[i * k + i] += lambda;
            Array.Copy(rhs, solution, k);
            if (CholeskySolve(work, k, solution) && solution.All(double.IsFinite))
            {
                Array.Copy(solution, rhs, k);
                return true;
            }
            lambda = lambda == 0 ? 1e-14 * largest : lambda * 100;
        }
        return false;
    }

    /// <summary>Solves H·x = rhs in place for H (k, k) symmetric positive definite (overwritten); false if it is not.</summary>
    private static bool CholeskySolve(double[] h, int k, double[] rhs)
    {
        for (int j = 0; j < k; j++)
        {
            double diagonal = h[j * k + j];
            for (int l = 0; l < j; l++) diagonal -= h[j * k + l] * h[j * k + l];
            if (!(diagonal > 0)) return false;
            double root = Math.Sqrt(diagonal);
            h[j * k + j] = root;
            for (int i = j + 1; i < k; i++)
            {
                double v = h[i * k + j];
                for (int l = 0; l < j; l++) v -= h[i * k + l] * h[j * k + l];
                h[i * k + j] = v / root;
            }
        }
        for (int i = 0; i < k; i++)
        {
            double v = rhs[i];
            for (int l = 0; l < i; l++) v -= h[i * k + l] * rhs[l];
            rhs[i] = v / h[i * k + i];
        }
        for (int i = k - 1; i >= 0; i--)
        {
            double v = rhs[i];
            for (int l = i + 1; l < k; l++) v -= h[l * k + i] * rhs[l];
            rhs[i] = v / h[i * k + i];
        }
        return true;
    }
}
