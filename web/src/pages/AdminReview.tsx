// TODO(web): AdminReview screen.
export function AdminReview() {
  return <h1>AdminReview</h1>;
}
