/** What the benchmark bank answers to `GET /accounts`: ~500 B of Berlin Group-like JSON. */
export const ACCOUNTS_BODY = Buffer.from(
  JSON.stringify({
    accounts: [1, 2].map((n) => ({
      resourceId: `acc-000${n}`,
      iban: `SE35500000000005440000000${n}`,
      currency: 'SEK',
      name: `Account ${n}`,
      product: 'Privatkonto',
      cashAccountType: 'CACC',
      status: 'enabled',
      _links: { balances: { href: `/accounts/acc-000${n}/balances` } },
    })),
  }),
);
