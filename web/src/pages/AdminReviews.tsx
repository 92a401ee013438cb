// TODO(web): AdminReviews screen.
export function AdminReviews() {
  return <h1>AdminReviews</h1>;
}
