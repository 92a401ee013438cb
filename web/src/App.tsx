import { createBrowserRouter, Navigate, RouterProvider } from "react-router";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { SessionProvider } from "./session";
import { Layout } from "./components/Layout";
import { SignIn } from "./pages/SignIn";
import { Groups } from "./pages/Groups";
import { Timeline } from "./pages/Timeline";
import { GroupApps } from "./pages/GroupApps";
import { DirectMessages } from "./pages/DirectMessages";
import { Wallet } from "./pages/Wallet";
import { DevApps } from "./pages/DevApps";
import { DevApp } from "./pages/DevApp";
import { AdminReviews } from "./pages/AdminReviews";
import { AdminReview } from "./pages/AdminReview";
import { AdminApps } from "./pages/AdminApps";
import { AdminAudit } from "./pages/AdminAudit";
import { AdminLedger } from "./pages/AdminLedger";

const router = createBrowserRouter([
  { path: "/signin", element: <SignIn /> },
  {
    element: <Layout />,
    children: [
      { index: true, element: <Navigate to="/groups" replace /> },
      { path: "groups", element: <Groups /> },
      { path: "groups/:gid", element: <Timeline /> },
      { path: "groups/:gid/apps", element: <GroupApps /> },
      { path: "messages", element: <DirectMessages /> },
      { path: "wallet", element: <Wallet /> },
      { path: "dev", element: <DevApps /> },
      { path: "dev/apps/:slug", element: <DevApp /> },
      { path: "admin", element: <AdminReviews /> },
      { path: "admin/reviews/:slug/:version", element: <AdminReview /> },
      { path: "admin/apps", element: <AdminApps /> },
      { path: "admin/audit", element: <AdminAudit /> },
      { path: "admin/ledger", element: <AdminLedger /> },
      { path: "*", element: <Navigate to="/groups" replace /> },
    ],
  },
]);

// Server data is cached and refetched by TanStack Query; API errors are not retried
// (a 4xx will not change by asking again).
const queries = new QueryClient({
  defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } },
});

export function App() {
  return (
    <QueryClientProvider client={queries}>
      <SessionProvider>
        <RouterProvider router={router} />
      </SessionProvider>
    </QueryClientProvider>
  );
}
